import { io, type Socket } from 'socket.io-client';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { EventHub } from './emitter.js';
import type { Endpoints } from './endpoints.js';
import { emitWithAck, type PayloadOf, type ResultOf } from './emit-with-ack.js';
import { endsSession, localError, localReason, RoomcastError, toRoomcastError } from './errors.js';
import { Gate } from './gate.js';
import { AckTracker, Handover } from './handover.js';
import type { ChatClientToServerEvents, ChatServerToClientEvents, RevokeReason } from './protocol.js';
import { closeReasonOf, isSessionEnding, type CloseReason, type RetryReason } from './reasons.js';
import type { Session } from './session.js';

/** The connection states; `state` events fire only when the state really changes. */
export const State = Object.freeze({
  /** Not connected yet (before `connect()` or `join()`). */
  Disconnected: 'disconnected',
  /** Trying to connect for the first time. */
  Connecting: 'connecting',
  /** Connected: events flow. */
  Connected: 'connected',
  /** The connection was lost; trying again with backoff. */
  Reconnecting: 'reconnecting',
  /** Stopped for good (`close()`, logout, or the server refused the login); `connect()` starts over. */
  Closed: 'closed',
} as const);
/** One of the `State` values. */
export type ConnectionState = (typeof State)[keyof typeof State];

/** Payload of the `state` event. */
export interface StateChange {
  /** The new state. */
  state: ConnectionState;
  /** The state before. */
  previous: ConnectionState;
  /** Why: a CloseReason for `closed`, a RetryReason for `connecting`/`reconnecting`. */
  reason?: CloseReason | RetryReason;
  /** The failure behind the change, if any. */
  error?: RoomcastError;
}

/** A Socket.IO transport. */
export type Transport = 'websocket' | 'polling';
type ChatSocket = Socket<ChatServerToClientEvents, ChatClientToServerEvents>;
type ChatEvent = keyof ChatClientToServerEvents;

type ServerPayloads = { [K in keyof ChatServerToClientEvents]: Parameters<ChatServerToClientEvents[K]>[0] };
type Forwarded = Exclude<keyof ServerPayloads, 'session:expired' | 'session:revoked' | 'session:slow_consumer' | 'server:draining'>;
/** One room or broadcast event from the server, tagged with its name (session and draining events are handled here). */
export type ServerEvent = { [K in Forwarded]: { event: K; payload: ServerPayloads[K] } }[Forwarded];

const FORWARDED: readonly Forwarded[] = [
  'message:new',
  'message:updated',
  'message:deleted',
  'message:reaction',
  'typing',
  'presence',
  'presence:batch',
  'room:updated',
  'room:kicked',
  'room:muted',
  'read:updated',
  'read:receipt',
  'mention',
  'member:joined',
  'member:left',
  'system:broadcast',
];

export interface ConnectionEvents {
  state: StateChange;
  /** A socket is connected (a new one after every reconnect). */
  connected: { socketId: string };
  server: ServerEvent;
  error: RoomcastError;
}

export interface ConnectionOptions {
  endpoints: Endpoints;
  session: Session;
  backoff: Required<BackoffOptions>;
  connectTimeoutMs: number;
  ackTimeoutMs: number;
  transports?: Transport[];
  path?: string;
}

/**
 * The /chat connection and its state machine. Socket.IO's own reconnection is
 * off: each attempt gets a fresh access token (renewed if needed) and a new
 * socket, after a full-jitter backoff. Refusals that no retry can fix
 * (unauthorized, banned, forbidden, a refused renewal, a revoked session) end
 * in `closed`. Every async step checks `#epoch` and drops its result if the
 * connection moved on meanwhile. When the server announces `server:draining`,
 * a handover opens the next socket before the old one closes (see Handover):
 * the state stays `connected` and rooms re-join and catch up on the new one.
 */
export class Connection extends EventHub<ConnectionEvents> {
  #state: ConnectionState = State.Disconnected;
  #socket: ChatSocket | null = null;
  #attempt = 0;
  #epoch = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #ready = new Gate();
  readonly #acks = new AckTracker();
  readonly #handover: Handover;

  constructor(private readonly options: ConnectionOptions) {
    super();
    this.#handover = new Handover({
      open: async () => this.#createSocket(await options.session.accessToken()),
      next: () => options.endpoints.next(),
      isCurrent: (from) => this.#socket === from && from.connected && this.#state === State.Connected,
      promote: (socket, from) => {
        this.#acks.retire(from, options.ackTimeoutMs);
        this.#use(socket, ++this.#epoch);
      },
      backoff: options.backoff,
    });
    options.session.on('token', ({ accessToken }) => void this.#pushToken(accessToken));
    options.session.on('ended', (err) => this.close(closeReasonOf(err), err));
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The id of the connected socket (it changes on every reconnect). */
  get socketId(): string | undefined {
    return this.#socket?.connected ? this.#socket.id : undefined;
  }

  /** Changes whenever the socket is replaced or dropped; lets callers discard stale work. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Starts connecting (no-op unless disconnected or closed). */
  connect(): void {
    if (this.#state !== State.Disconnected && this.#state !== State.Closed) return;
    this.#ready.reset();
    this.#attempt = 0;
    this.#setState(State.Connecting, 'connect_requested');
    void this.#open();
  }

  /** Stops for good: no more attempts; waiters of `whenConnected` are rejected. */
  close(reason: CloseReason, error?: RoomcastError): void {
    if (this.#state === State.Closed) return;
    this.#epoch += 1;
    this.#clearRetry();
    this.#dropSocket();
    this.#acks.dropAll();
    this.#ready.fail(error ?? localError('closed', `the client is closed (${reason})`));
    this.#setState(State.Closed, reason, error);
  }

  /** Resolves when connected; rejects once the connection is closed. */
  whenConnected(): Promise<void> {
    return this.#ready.wait();
  }

  /** Emits a /chat event and resolves with its ack data; rejects with a RoomcastError. */
  async request<E extends ChatEvent>(
    event: E,
    payload: PayloadOf<ChatClientToServerEvents, E>,
    timeoutMs = this.options.ackTimeoutMs,
  ): Promise<ResultOf<ChatClientToServerEvents, E>> {
    const socket = this.#socket;
    if (!socket) throw localError('disconnected', `${event}: not connected`);
    try {
      return await this.#acks.track(socket, emitWithAck(socket, event, payload, timeoutMs));
    } catch (err) {
      // The socket's token ran out before the scheduled renewal: renew now (the new token is pushed).
      if (err instanceof RoomcastError && err.code === 'token_expired') this.options.session.refresh().catch(() => {});
      throw err;
    }
  }

  async #open(): Promise<void> {
    const epoch = ++this.#epoch;
    let token: string;
    try {
      token = await this.options.session.accessToken();
    } catch (err) {
      if (epoch !== this.#epoch) return;
      if (endsSession(err)) return this.close(closeReasonOf(err), err);
      return this.#retry('token_unavailable', toRoomcastError(err));
    }
    if (epoch !== this.#epoch) return;
    this.#use(this.#createSocket(token), epoch);
  }

  /** A /chat socket to the current endpoint, not connected yet. */
  #createSocket(token: string): ChatSocket {
    return io(`${this.options.endpoints.current()}/chat`, {
      auth: { token },
      autoConnect: false,
      reconnection: false,
      forceNew: true,
      timeout: this.options.connectTimeoutMs,
      ...(this.options.transports ? { transports: this.options.transports } : {}),
      ...(this.options.path ? { path: this.options.path } : {}),
    });
  }

  /** Makes `socket` the connection's for `epoch` and connects it (a handover's arrives connected). */
  #use(socket: ChatSocket, epoch: number): void {
    this.#socket = socket;
    let expired = false;
    let revoked: RevokeReason | null = null;
    let slow = false;
    const current = () => epoch === this.#epoch;

    const connected = () => {
      if (!current()) return;
      this.#attempt = 0;
      this.#setState(State.Connected);
      this.#ready.open();
      this.emit('connected', { socketId: socket.id ?? '' });
    };
    socket.on('connect', connected);
    socket.on('connect_error', (err: Error & { data?: { code?: unknown } }) => {
      if (!current()) return;
      this.#dropSocket();
      const code = typeof err.data?.code === 'string' ? err.data.code : refusedWithStatus(err) === 403 ? 'forbidden' : err.message;
      if (code === 'token_expired') {
        this.options.session.invalidate();
        return this.#retry('token_expired');
      }
      if (isSessionEnding(code)) {
        return this.close(code, new RoomcastError(code, `the server refused the connection: ${code}`));
      }
      this.options.endpoints.next();
      this.#retry('connect_failed', localError('network', `connection failed: ${err.message}`));
    });
    socket.on('session:expired', () => {
      expired = true;
    });
    socket.on('session:revoked', ({ reason }) => {
      revoked = reason;
    });
    socket.on('session:slow_consumer', () => {
      slow = true;
    });
    socket.on('server:draining', ({ closeInMs }) => {
      if (current()) this.#handover.start(socket, closeInMs);
    });
    socket.on('disconnect', (why) => {
      if (!current() || why === 'io client disconnect') return;
      this.#dropSocket();
      if (revoked) return this.close(`revoked:${revoked}`, new RoomcastError('unauthorized', `the server ended the session: ${revoked}`));
      if (expired) this.options.session.invalidate();
      this.#retry(expired ? 'session_expired' : slow ? 'slow_consumer' : why === 'io server disconnect' ? 'server_disconnect' : 'transport_closed');
    });
    for (const event of FORWARDED) {
      const forward = (payload: unknown) => {
        if (current()) this.emit('server', { event, payload } as ServerEvent);
      };
      socket.on(event, forward as never);
    }
    if (socket.connected) connected();
    else socket.connect();
  }

  /** Sends a renewed token to the open socket (`auth:refresh`) so it stays up; on refusal, reconnects with it. */
  async #pushToken(token: string): Promise<void> {
    if (!this.#socket?.connected) return;
    const epoch = this.#epoch;
    try {
      await this.request('auth:refresh', { token });
    } catch (err) {
      if (epoch !== this.#epoch || localReason(err) === 'disconnected') return;
      this.emit('error', toRoomcastError(err));
      // No answer yet is no refusal: keep the socket (the server ends it with session:expired if it must).
      if (localReason(err) === 'timeout') return;
      this.#dropSocket();
      this.#retry('token_refresh_failed', toRoomcastError(err));
    }
  }

  #retry(reason: RetryReason, error?: RoomcastError): void {
    if (this.#state === State.Closed) return;
    this.#ready.shut();
    this.#setState(this.#state === State.Connecting ? State.Connecting : State.Reconnecting, reason, error);
    const epoch = ++this.#epoch;
    this.#clearRetry();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (epoch === this.#epoch) void this.#open();
    }, retryDelay(backoffDelay(this.#attempt++, this.options.backoff), error));
  }

  #dropSocket(): void {
    this.#handover.cancel();
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    socket.removeAllListeners();
    socket.disconnect();
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #setState(state: ConnectionState, reason?: CloseReason | RetryReason, error?: RoomcastError): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.emit('state', { state, previous, ...(reason ? { reason } : {}), ...(error ? { error } : {}) });
  }
}

/**
 * The HTTP status a transport was refused with, where the runtime tells it:
 * polling errors carry it as `description`; Node's WebSocket says
 * "Unexpected server response: 403". A 403 is the server refusing this
 * page's Origin before any Socket.IO session exists (no `data.code`), which
 * no retry fixes. Browsers hide a refused WebSocket's status: there the SDK
 * keeps retrying, as for any network failure.
 */
export function refusedWithStatus(err: unknown): number | undefined {
  const description = (err as { description?: unknown } | null)?.description;
  if (typeof description === 'number') return description;
  const message = (description as { message?: unknown } | null | undefined)?.message;
  const match = typeof message === 'string' ? /Unexpected server response: (\d{3})/.exec(message) : null;
  return match ? Number(match[1]) : undefined;
}

/** The longest `Retry-After` a reconnect honours: a longer one is retried after this (and answered again). */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * How long to wait before the next attempt: the backoff delay, but not less
 * than the server's `retryAfter` (seconds) when it refused with `rate_limited`
 * (e.g. a sign-in answered 429 with Retry-After), bounded by MAX_RETRY_AFTER_MS.
 */
export function retryDelay(backoffMs: number, error?: RoomcastError): number {
  if (error?.code !== 'rate_limited' || !error.retryAfter || error.retryAfter <= 0) return backoffMs;
  return Math.max(backoffMs, Math.min(error.retryAfter * 1000, MAX_RETRY_AFTER_MS));
}
