import { AdminApi } from './admin.js';
import { Connection, State, type ConnectionState, type ServerEvent, type StateChange } from './connection.js';
import { Emitter } from './emitter.js';
import { Endpoints } from './endpoints.js';
import { localError, localReason, RoomcastError } from './errors.js';
import { resolveOptions, type ClientOptions } from './options.js';
import type { CreateRoomRequest, HistoryPage, HistoryQuery, RoomInfo, RoomListQuery, RoomResponse, RoomsPage, SystemBroadcastEvent, User, UserResponse } from './protocol.js';
import type { MembersPage, MentionEvent, ReadResult, ReadUpdatedEvent, RoomReadsPage } from './protocol.js';
import { queryString } from './query-string.js';
import type { CloseReason } from './reasons.js';
import { RestApi } from './rest-api.js';
import { Room } from './room.js';
import { Session } from './session.js';
import { MemoryTokenStorage } from './token-storage.js';

/** Events of the client. */
export interface ClientEvents {
  /** The connection state changed (fired only on real changes). */
  state: StateChange;
  /** A background failure (token renewal, a refused auth:refresh); the SDK keeps going. */
  error: RoomcastError;
  /** An admin's `system:broadcast`. */
  broadcast: SystemBroadcastEvent;
  /** The user's read seq of a room moved on another device or through REST (joined room or not): clear that room's badge. */
  readUpdated: ReadUpdatedEvent;
  /** A new message mentions the user (`@username`), in any room they are a member of, joined here or not: bump that room's `mentionCount`. */
  mention: MentionEvent;
  /** The server ended the login (revoked, banned, refused renewal): the client is now `closed`. */
  sessionEnded: {
    /** Why the session ended (also the `closed` state's reason). */
    reason: CloseReason;
    /** The server's refusal, when there was one. */
    error?: RoomcastError;
  };
}

/** Where `join` starts the app's view of a room (see `RoomcastClient.join`). */
export interface JoinOptions {
  /** The seq of the last message the app has: every message after it is delivered. */
  afterSeq?: number;
  /** The change number the app's view is at (a Room's `lastChange`); needs `afterSeq`. */
  afterChange?: number;
}

/** Room REST calls. */
export interface RoomsApi {
  /**
   * One page of the rooms the user can see (public rooms and their private
   * ones), newest first: `q` keeps names containing it, `limit` 1-200
   * (default 100); pass the answer's `nextCursor` as `cursor` for the next page.
   */
  page(query?: RoomListQuery): Promise<RoomsPage>;
  /** The rooms of one page (see `page`): without a query, the newest 100. */
  list(query?: RoomListQuery): Promise<RoomInfo[]>;
  /** Creates a room (read-only rooms: admins only; a member's private room is theirs to invite into). */
  create(input: CreateRoomRequest): Promise<RoomInfo>;
  /** One room the user can see (`not_found` otherwise). */
  get(roomId: string): Promise<RoomInfo>;
  /** The room members' last-read seqs, by user id, a page at a time (`limit` 1-200, default 100; `cursor`: the previous `nextCursor`). */
  reads(roomId: string, query?: { limit?: number; cursor?: string }): Promise<RoomReadsPage>;
  /**
   * Issue 14: the direct room with another user, made on first use (the same
   * pair always gets the same room); its `dm` names the other user.
   * @example
   * const room = await client.join((await client.rooms.dm(userId)).id);
   */
  dm(userId: string): Promise<RoomInfo>;
  /**
   * Issue 14: the room's members with their online state, by user id, a page
   * at a time (`limit` 1-200, default 100; `cursor`: the previous `nextCursor`).
   * @example
   * const { members } = await client.rooms.members(roomId);
   */
  members(roomId: string, query?: { limit?: number; cursor?: string }): Promise<MembersPage>;
  /**
   * Issue 14: invites a user into a room (its owner or an admin).
   * @example
   * await client.rooms.invite(roomId, userId);
   */
  invite(roomId: string, userId: string): Promise<void>;
  /**
   * Issue 14: removes a member (its owner or an admin); in a private room
   * their sockets leave it at once.
   * @example
   * await client.rooms.remove(roomId, userId);
   */
  remove(roomId: string, userId: string): Promise<void>;
  /**
   * Issue 14: ends the user's own membership of a room; a joined handle of
   * it is closed (no rejoin on reconnect).
   * @example
   * await client.rooms.leave(roomId);
   */
  leave(roomId: string): Promise<void>;
}

/** Creates a Roomcast client. Nothing connects until `connect()` or `join()`. */
export function createClient(options: ClientOptions): RoomcastClient {
  return new RoomcastClient(options);
}

/**
 * The Roomcast client: sign-in, rooms, a /chat connection that survives
 * server restarts and failovers, and an admin handle.
 */
export class RoomcastClient extends Emitter<ClientEvents> {
  /** Room REST calls. */
  readonly rooms: RoomsApi;
  /** Admin actions (/admin namespace and admin REST routes). */
  readonly admin: AdminApi;
  readonly #session: Session;
  readonly #connection: Connection;
  readonly #rest: RestApi;
  readonly #rooms = new Map<string, Room>();
  readonly #maxSendAttempts: number;

  constructor(options: ClientOptions) {
    super();
    const resolved = resolveOptions(options);
    const endpoints = new Endpoints(options.url);
    this.#rest = new RestApi({
      endpoints,
      fetch: resolved.fetch,
      includeCredentials: resolved.refreshMode === 'browser',
      timeoutMs: resolved.requestTimeoutMs,
    });
    const storage = options.storage ?? new MemoryTokenStorage();
    if (options.refreshToken) void storage.set(options.refreshToken);
    this.#session = new Session({
      rest: this.#rest,
      mode: resolved.refreshMode,
      ...(options.getToken ? { getToken: options.getToken } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      storage,
      refreshMarginMs: resolved.refreshMarginMs,
    });
    this.#connection = new Connection({
      endpoints,
      session: this.#session,
      backoff: resolved.reconnect,
      connectTimeoutMs: resolved.connectTimeoutMs,
      ackTimeoutMs: resolved.ackTimeoutMs,
      ...(options.transports ? { transports: options.transports } : {}),
      ...(options.path ? { path: options.path } : {}),
    });
    this.#maxSendAttempts = resolved.maxSendAttempts;
    this.admin = new AdminApi({
      endpoints,
      session: this.#session,
      authed: (method, path, body) => this.#authed(method, path, body),
      connectTimeoutMs: resolved.connectTimeoutMs,
      ackTimeoutMs: resolved.ackTimeoutMs,
      ...(options.transports ? { transports: options.transports } : {}),
      ...(options.path ? { path: options.path } : {}),
    });
    this.rooms = {
      page: (query = {}) => this.#authed<RoomsPage>('GET', `/api/rooms${queryString({ q: query.q, limit: query.limit, cursor: query.cursor })}`),
      list: async (query = {}) => (await this.rooms.page(query)).rooms,
      create: async (input) => (await this.#authed<RoomResponse>('POST', '/api/rooms', input)).room,
      get: async (roomId) => (await this.#authed<RoomResponse>('GET', `/api/rooms/${encodeURIComponent(roomId)}`)).room,
      reads: (roomId, query = {}) => this.#authed<RoomReadsPage>('GET', `/api/rooms/${encodeURIComponent(roomId)}/reads${queryString({ limit: query.limit, cursor: query.cursor })}`),
      dm: async (userId) => (await this.#authed<RoomResponse>('POST', '/api/dms', { userId })).room,
      members: (roomId, query = {}) => this.#authed<MembersPage>('GET', `/api/rooms/${encodeURIComponent(roomId)}/members${queryString({ limit: query.limit, cursor: query.cursor })}`),
      invite: async (roomId, userId) => {
        await this.#authed('POST', `/api/rooms/${encodeURIComponent(roomId)}/members`, { userId });
      },
      remove: async (roomId, userId) => {
        await this.#authed('DELETE', `/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(userId)}`);
      },
      leave: async (roomId) => {
        await this.#authed('POST', `/api/rooms/${encodeURIComponent(roomId)}/leave`);
        await this.#rooms.get(roomId)?.leave();
      },
    };

    this.#session.on('error', (err) => this.emit('error', err));
    this.#connection.on('error', (err) => this.emit('error', err));
    this.#connection.on('state', (change) => this.#onState(change));
    this.#connection.on('connected', () => {
      for (const room of this.#rooms.values()) void room.resume();
    });
    this.#connection.on('server', (event) => this.#onServerEvent(event));
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.#connection.state;
  }

  /** The signed-in user, once `register`/`login` answered. */
  get user(): User | null {
    return this.#session.user;
  }

  /** The id of the connected /chat socket (undefined while not connected; new after each reconnect). */
  get socketId(): string | undefined {
    return this.#connection.socketId;
  }

  /** Creates an account and signs in. */
  async register(input: { username: string; email: string; password: string }): Promise<User> {
    return (await this.#session.register(input)).user;
  }

  /** Signs in with a username or email and a password. */
  async login(login: string, password: string): Promise<User> {
    return (await this.#session.login({ login, password })).user;
  }

  /**
   * The signed-in user, from the server (`GET /api/me`). In browser refresh
   * mode this is also how a page restores its session after a reload: with no
   * access token yet, the SDK first renews one from the HttpOnly cookie.
   * Rejects with `unauthorized` when there is no session to restore.
   */
  async me(): Promise<User> {
    const { user } = await this.#authed<UserResponse>('GET', '/api/me');
    this.#session.user = user;
    return user;
  }

  /** Signs out: the server revokes the login; the client closes (reason `logged_out`). */
  async logout(): Promise<void> {
    this.#shutdown('logged_out');
    await this.#session.logout();
  }

  /** Connects (if not already) and resolves once connected; rejects if the client ends up closed. */
  connect(): Promise<void> {
    this.#session.start();
    this.#connection.connect();
    return this.#connection.whenConnected();
  }

  /** Disconnects for good (state `closed`, reason `client_closed`): rooms are dropped and queued sends rejected. */
  close(): void {
    this.#shutdown('client_closed');
  }

  /**
   * Joins a room (connecting first if needed) and resolves with its handle
   * once the server accepted the join. Without options the app's view starts
   * at the join. `afterSeq` resumes from a seq the app already has: every
   * message after it is delivered. `afterSeq` with `afterChange` resumes a
   * persisted view (a Room's `lastSeq` and `lastChange`): every message after
   * `afterSeq` comes as `message`, and every later change of one the app has
   * as `updated`/`deleted`. Joining the same room twice gives the same handle.
   */
  async join(roomId: string, options: JoinOptions = {}): Promise<Room> {
    let room = this.#rooms.get(roomId);
    if (!room) {
      if (options.afterChange !== undefined && options.afterSeq === undefined) {
        throw new RoomcastError('validation_failed', 'afterChange needs afterSeq: pass both from the persisted view');
      }
      room = new Room(
        roomId,
        {
          connection: this.#connection,
          fetchHistory: (id, query) => this.#history(id, query),
          fetchReplies: (id, seq, query) => this.#replies(id, seq, query),
          maxSendAttempts: this.#maxSendAttempts,
          markRead: (id, seq) => this.markRead(id, seq),
          userId: () => this.#session.user?.id ?? null,
          onGone: (gone) => {
            if (this.#rooms.get(gone.id) === gone) this.#rooms.delete(gone.id);
          },
        },
        { lastSeq: options.afterSeq ?? null, lastChange: options.afterChange ?? null },
      );
      this.#rooms.set(roomId, room);
      if (this.#connection.state === State.Disconnected || this.#connection.state === State.Closed) void this.connect().catch(() => {});
      if (this.#connection.state === State.Connected) void room.resume();
    }
    await room.joined();
    return room;
  }

  /**
   * Marks a room (joined or not) read up to `seq` and resolves with the
   * stored read seq, which never goes down (a lower `seq` is ignored). Over
   * the socket when connected (`room:read`), else over REST; the user's
   * other devices hear `readUpdated` either way.
   * @example
   * const { readSeq } = await client.markRead(roomId, room.lastSeq ?? 0);
   */
  async markRead(roomId: string, seq: number): Promise<ReadResult> {
    if (this.#connection.state === State.Connected) {
      try {
        const { readSeq } = await this.#connection.request('room:read', { roomId, seq });
        return { readSeq };
      } catch (err) {
        // The socket went (or did not answer): the REST twin has the same rule, and a repeat is harmless (monotonic).
        const reason = localReason(err);
        if (reason !== 'disconnected' && reason !== 'timeout') throw err;
      }
    }
    return this.#authed<ReadResult>('PUT', `/api/rooms/${encodeURIComponent(roomId)}/read`, { seq });
  }

  /** The handle of a joined room, if any. */
  room(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  #onState(change: StateChange): void {
    if (change.previous === State.Connected) for (const room of this.#rooms.values()) room.suspend();
    this.emit('state', change);
    if (change.state !== State.Closed) return;
    const reason = change.reason as CloseReason;
    const error = change.error ?? localError('closed', `the client is closed (${reason})`);
    for (const room of [...this.#rooms.values()]) room.close(localError('closed', error.message));
    this.#session.stop();
    this.admin.close();
    if (reason !== 'client_closed' && reason !== 'logged_out') this.emit('sessionEnded', { reason, ...(change.error ? { error: change.error } : {}) });
  }

  #onServerEvent(event: ServerEvent): void {
    if (event.event === 'system:broadcast') return this.emit('broadcast', event.payload);
    if (event.event === 'read:updated') this.emit('readUpdated', event.payload);
    if (event.event === 'mention') this.emit('mention', event.payload);
    const roomId = event.event === 'room:updated' ? event.payload.id : event.payload.roomId;
    this.#rooms.get(roomId)?.dispatch(event);
  }

  #shutdown(reason: CloseReason): void {
    this.#connection.close(reason);
  }

  #history(roomId: string, query: HistoryQuery): Promise<HistoryPage> {
    const { afterSeq, beforeSeq, limit } = query;
    return this.#authed('GET', `/api/rooms/${encodeURIComponent(roomId)}/messages${queryString({ afterSeq, beforeSeq, limit })}`);
  }

  #replies(roomId: string, seq: number, query: HistoryQuery): Promise<HistoryPage> {
    const { afterSeq, beforeSeq, limit } = query;
    return this.#authed('GET', `/api/rooms/${encodeURIComponent(roomId)}/messages/${seq}/replies${queryString({ afterSeq, beforeSeq, limit })}`);
  }

  /** A REST call with the access token; renews it once if the server says it expired. */
  async #authed<T>(method: string, path: string, body?: unknown): Promise<T> {
    const call = async () => this.#rest.request<T>(method, path, { token: await this.#session.accessToken(), ...(body === undefined ? {} : { body }) });
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof RoomcastError && err.code === 'token_expired')) throw err;
      this.#session.invalidate();
      return call();
    }
  }
}
