import { EventHub } from './emitter.js';
import { endsSession, localError, RoomcastError, toRoomcastError } from './errors.js';
import { tokenExpiry } from './jwt.js';
import type { AuthResponse, LoginRequest, RefreshResponse, RegisterRequest, User } from './protocol.js';
import type { RestApi } from './rest-api.js';
import type { TokenStorage } from './token-storage.js';

/** How the refresh token travels: `native` keeps it in the SDK, `browser` in the server's HttpOnly cookie. */
export type RefreshMode = 'native' | 'browser';

/** Returns a fresh access token for the app-managed auth flow; `null` (or throwing a RoomcastError `unauthorized`) means signed out. */
export type GetToken = () => Promise<string | null> | string | null;

/** A login for unattended clients. */
export interface Credentials {
  /** Username or email. */
  login: string;
  /** The account's password. */
  password: string;
}

export interface SessionOptions {
  rest: RestApi;
  mode: RefreshMode;
  getToken?: GetToken;
  credentials?: Credentials;
  storage: TokenStorage;
  refreshMarginMs: number;
}

export interface SessionEvents {
  /** A new access token (after login or refresh). */
  token: { accessToken: string; expiresAt: number };
  /** The server refused to renew the login: nothing more will work. */
  ended: RoomcastError;
  /** A background refresh failed for a reason that may pass (network). */
  error: RoomcastError;
}

const RETRY_REFRESH_MS = 2_000;

/** The part of the browser's Web Locks API used here. */
interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/**
 * Browser mode: every tab of the browser shares the one refresh cookie, and
 * refresh tokens rotate, so two tabs renewing at once would present the same
 * token twice and the server would revoke the whole login (`refresh_reused`).
 * Where the Web Locks API exists, the renewals of all tabs take turns: the
 * next starts once the previous answer has stored the new cookie.
 */
function acrossTabs<T>(renew: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks ? locks.request('roomcast:refresh', renew) : renew();
}

/**
 * The login: holds the access token, renews it shortly before it expires
 * (through getToken, or REST /api/auth/refresh, or the stored credentials),
 * one renewal at a time: a rotated refresh token presented twice would revoke
 * the whole login.
 */
export class Session extends EventHub<SessionEvents> {
  user: User | null = null;
  #accessToken: string | null = null;
  #expiresAt = 0;
  #refreshing: Promise<string> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by login/logout: a renewal started before is dropped when it lands. */
  #generation = 0;
  #stopped = false;

  constructor(private readonly options: SessionOptions) {
    super();
  }

  get expiresAt(): number {
    return this.#expiresAt;
  }

  async register(input: Omit<RegisterRequest, 'client'>): Promise<AuthResponse> {
    return this.#signIn('/api/auth/register', { ...input });
  }

  async login(input: Omit<LoginRequest, 'client'>): Promise<AuthResponse> {
    return this.#signIn('/api/auth/login', { ...input });
  }

  /** Ends the login on the server (its sockets get `session:revoked`) and forgets every token. */
  async logout(): Promise<void> {
    const refreshToken = this.options.mode === 'native' ? await this.options.storage.get() : null;
    this.#forget();
    if (this.options.mode === 'native' && !refreshToken) return;
    await this.options.rest.request<void>('POST', '/api/auth/logout', {
      body: refreshToken ? { refreshToken } : {},
      withCookies: true,
    });
  }

  /** A valid access token: the current one, or a renewed one when it is about to expire. */
  async accessToken(): Promise<string> {
    if (this.#accessToken && Date.now() < this.#expiresAt - this.#margin(this.#expiresAt - Date.now())) return this.#accessToken;
    return this.refresh();
  }

  /** The server said the token expired: the next `accessToken()` renews it. */
  invalidate(): void {
    this.#expiresAt = 0;
  }

  /** Renews the access token (one renewal at a time; callers share it). */
  refresh(): Promise<string> {
    this.#refreshing ??= this.#renew().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /** Stops the renewal timer (the tokens are kept, so the client can connect again). */
  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  /** Lets the renewal timer run again after `stop`. */
  start(): void {
    this.#stopped = false;
    if (this.#accessToken) this.#schedule();
  }

  /** `fresh`: a new login the app asked for, which drops renewals still in flight. */
  async #signIn(path: string, body: Record<string, unknown>, fresh = true): Promise<AuthResponse> {
    const generation = fresh ? ++this.#generation : this.#generation;
    const answer = await this.options.rest.request<AuthResponse>('POST', path, {
      body: this.options.mode === 'native' ? { ...body, client: 'native' } : body,
      withCookies: true,
    });
    if (generation !== this.#generation) throw localError('closed', 'a newer login or logout replaced this one');
    this.user = answer.user;
    if (answer.refreshToken) await this.options.storage.set(answer.refreshToken);
    this.#accept(answer.accessToken, answer.expiresIn);
    return answer;
  }

  async #renew(): Promise<string> {
    const generation = this.#generation;
    try {
      const token = await this.#obtain();
      if (generation !== this.#generation) throw localError('closed', 'the login changed during the renewal');
      return token;
    } catch (err) {
      const error = toRoomcastError(err);
      if (generation === this.#generation && endsSession(error)) {
        this.#forget();
        this.emit('ended', error);
      }
      throw error;
    }
  }

  async #obtain(): Promise<string> {
    const { getToken, credentials, mode, storage, rest } = this.options;
    if (getToken) {
      const token = await getToken();
      if (!token) throw new RoomcastError('unauthorized', 'getToken returned no token');
      this.#accept(token, null);
      return token;
    }
    const refreshToken = mode === 'native' ? await storage.get() : null;
    if (mode === 'browser' || refreshToken) {
      try {
        const refresh = () => rest.request<RefreshResponse>('POST', '/api/auth/refresh', { body: refreshToken ? { refreshToken } : {}, withCookies: true });
        const answer = mode === 'browser' ? await acrossTabs(refresh) : await refresh();
        if (answer.refreshToken) await storage.set(answer.refreshToken);
        this.#accept(answer.accessToken, answer.expiresIn);
        return answer.accessToken;
      } catch (err) {
        // An expired or unknown refresh token can be replaced by signing in again, if we may.
        if (!(credentials && err instanceof RoomcastError && err.code === 'unauthorized')) throw err;
      }
    }
    if (credentials) return (await this.#signIn('/api/auth/login', { ...credentials }, false)).accessToken;
    throw new RoomcastError('unauthorized', 'not signed in: call login(), or pass getToken or credentials');
  }

  #accept(accessToken: string, expiresIn: number | null): void {
    const fromClaim = tokenExpiry(accessToken);
    const fromAnswer = expiresIn === null ? null : Date.now() + expiresIn * 1000;
    this.#accessToken = accessToken;
    this.#expiresAt = Math.min(fromClaim ?? Infinity, fromAnswer ?? Infinity);
    if (!Number.isFinite(this.#expiresAt)) this.#expiresAt = Date.now() + 60_000;
    this.#schedule();
    this.emit('token', { accessToken, expiresAt: this.#expiresAt });
  }

  /** Renew this long before expiry: the configured margin, but at most a third of what is left. */
  #margin(remainingMs: number): number {
    return Math.min(this.options.refreshMarginMs, Math.max(0, remainingMs) / 3);
  }

  #schedule(delayMs?: number): void {
    this.#clearTimer();
    if (this.#stopped || !this.#accessToken) return;
    const remaining = this.#expiresAt - Date.now();
    const wait = delayMs ?? Math.max(0, remaining - this.#margin(remaining));
    const generation = this.#generation;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (generation !== this.#generation || this.#stopped) return;
      this.refresh().catch((err: unknown) => {
        if (endsSession(err) || generation !== this.#generation) return;
        this.emit('error', toRoomcastError(err));
        if (this.#expiresAt > Date.now()) this.#schedule(Math.min(RETRY_REFRESH_MS, Math.max(0, this.#expiresAt - Date.now()) / 2));
      });
    }, Math.min(wait, 2 ** 31 - 1));
    // In Node, a pending renewal alone must not keep the process alive (an open socket does).
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #forget(): void {
    this.#generation += 1;
    this.#clearTimer();
    this.#accessToken = null;
    this.#expiresAt = 0;
    this.user = null;
    void this.options.storage.set(null);
  }
}
