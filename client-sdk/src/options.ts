import { resolveBackoff, type BackoffOptions } from './backoff.js';
import type { Transport } from './connection.js';
import type { UrlOption } from './endpoints.js';
import type { FetchLike } from './rest-api.js';
import type { Credentials, GetToken, RefreshMode } from './session.js';
import type { TokenStorage } from './token-storage.js';

/** Options of `createClient`. Only `url` is required. */
export interface ClientOptions {
  /** Server base URL (`http://host:3000`), a list to fail over through, or a function giving the URL for each failover attempt. */
  url: UrlOption;
  /** App-managed auth: returns a fresh access token when the SDK needs one (no refresh tokens involved). */
  getToken?: GetToken;
  /** Sign in with these on `connect()` and again whenever the refresh token is gone (bots, scripts). */
  credentials?: Credentials;
  /**
   * `native` (default outside browsers): the refresh token comes in the body and
   * is kept by the SDK (in `storage`). `browser` (default in browsers): it stays
   * in the server's HttpOnly cookie; requests use `credentials: 'include'`.
   */
  refreshMode?: RefreshMode;
  /** Native mode: where to keep the refresh token (default: memory). */
  storage?: TokenStorage;
  /** Native mode: a refresh token saved from an earlier run, to resume without a password. */
  refreshToken?: string;
  /** Renew the access token this long before it expires, at most a third of its remaining life (default 30 000 ms). */
  refreshMarginMs?: number;
  /** How long to wait for a socket ack before retrying (default 10 000 ms). */
  ackTimeoutMs?: number;
  /** Ack timeouts / server failures a send survives before it is rejected (default 5). Waiting offline does not count. */
  maxSendAttempts?: number;
  /** Reconnect backoff (full jitter): defaults min 500 ms, max 20 000 ms, factor 2. */
  reconnect?: BackoffOptions;
  /** Socket.IO connect timeout per attempt (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** REST request timeout (default 15 000 ms). */
  requestTimeoutMs?: number;
  /** Socket.IO transports in order (default: Socket.IO's, polling then upgrade to websocket). */
  transports?: Transport[];
  /** Socket.IO path (default `/socket.io`). */
  path?: string;
  /** The fetch to use (default: the global one). */
  fetch?: FetchLike;
}

export interface ResolvedOptions {
  refreshMode: RefreshMode;
  refreshMarginMs: number;
  ackTimeoutMs: number;
  maxSendAttempts: number;
  reconnect: Required<BackoffOptions>;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  fetch: FetchLike;
}

const inBrowser = () => typeof (globalThis as { document?: unknown }).document !== 'undefined';

/** Checks the options once and fills in the documented defaults. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const result = value ?? fallback;
    if (!(typeof result === 'number' && result > 0)) throw new TypeError(`${name} must be a positive number`);
    return result;
  };
  const fetchImpl = options.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
  if (!fetchImpl) throw new TypeError('fetch: no global fetch; pass one');
  if (options.getToken && options.credentials) throw new TypeError('pass getToken or credentials, not both');
  return Object.freeze({
    refreshMode: options.refreshMode ?? (inBrowser() ? 'browser' : 'native'),
    refreshMarginMs: positive('refreshMarginMs', options.refreshMarginMs, 30_000),
    ackTimeoutMs: positive('ackTimeoutMs', options.ackTimeoutMs, 10_000),
    maxSendAttempts: positive('maxSendAttempts', options.maxSendAttempts, 5),
    reconnect: resolveBackoff(options.reconnect),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, 15_000),
    fetch: fetchImpl,
  });
}
