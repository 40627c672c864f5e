import type { RevokeReason } from './protocol.js';

/**
 * Why the client is `closed`. Server refusals keep the contract code
 * (`unauthorized`, `banned`, `forbidden`, `refresh_reused`); a session the
 * server revoked carries its `session:revoked` reason.
 */
export type CloseReason =
  | 'client_closed'
  | 'logged_out'
  | 'unauthorized'
  | 'banned'
  | 'forbidden'
  | 'refresh_reused'
  | `revoked:${RevokeReason}`;

/** Why the client is `connecting`/`reconnecting`, for logs and UIs. */
export type RetryReason =
  | 'connect_requested'
  | 'connect_failed'
  | 'token_expired'
  | 'token_unavailable'
  | 'transport_closed'
  | 'session_expired'
  | 'server_disconnect'
  | 'token_refresh_failed';
