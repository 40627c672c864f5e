import type { RoomcastError } from './errors.js';
import type { ErrorCode, RevokeReason } from './protocol.js';

/**
 * Error codes after which the login cannot go on — no retry can fix them — so
 * the SDK closes (with the code as the close reason) instead of retrying. The
 * one list: the connection, the session, the admin handle and apps use it.
 */
export const SESSION_ENDING_CODES = ['unauthorized', 'banned', 'forbidden', 'refresh_reused'] as const satisfies readonly ErrorCode[];
/** One of `SESSION_ENDING_CODES`. */
export type SessionEndingCode = (typeof SESSION_ENDING_CODES)[number];

/** Whether a code (a RoomcastError's, or a refused handshake's) ends the session. */
export function isSessionEnding(code: unknown): code is SessionEndingCode {
  return (SESSION_ENDING_CODES as readonly unknown[]).includes(code);
}

/**
 * Why the client is `closed`. Server refusals keep the contract code (one of
 * `SESSION_ENDING_CODES`); a session the server revoked carries its
 * `session:revoked` reason.
 */
export type CloseReason = 'client_closed' | 'logged_out' | SessionEndingCode | `revoked:${RevokeReason}`;

/** The close reason for an error that ended the session (anything unexpected reads as `unauthorized`). */
export function closeReasonOf(err: RoomcastError): CloseReason {
  return isSessionEnding(err.code) ? err.code : 'unauthorized';
}

/** Why the client is `connecting`/`reconnecting`, for logs and UIs. */
export type RetryReason =
  | 'connect_requested'
  | 'connect_failed'
  | 'token_expired'
  | 'token_unavailable'
  | 'transport_closed'
  | 'session_expired'
  | 'server_disconnect'
  /** The server cut the socket for not reading its events fast enough; the rooms catch up by seq. */
  | 'slow_consumer'
  | 'token_refresh_failed';
