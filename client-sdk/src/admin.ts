import { io, type Socket } from 'socket.io-client';
import type { Transport } from './connection.js';
import { emitWithAck, type PayloadOf, type ResultOf } from './emit-with-ack.js';
import type { Endpoints } from './endpoints.js';
import { localError, RoomcastError } from './errors.js';
import type { AdminClientToServerEvents, AdminServerToClientEvents, AuditPage, BroadcastResult, StatsResult, UpdateUserRequest, User, UserResponse, UsersPage } from './protocol.js';
import { queryString } from './query-string.js';
import { isSessionEnding } from './reasons.js';
import type { Session } from './session.js';

type AdminSocket = Socket<AdminServerToClientEvents, AdminClientToServerEvents>;
type AdminEvent = keyof AdminClientToServerEvents;

export interface AdminDeps {
  endpoints: Endpoints;
  session: Session;
  /** An authenticated REST call (renews the token once on `token_expired`). */
  authed<T>(method: string, path: string, body?: unknown): Promise<T>;
  connectTimeoutMs: number;
  ackTimeoutMs: number;
  transports?: Transport[];
  path?: string;
}

/**
 * Admin actions: the /admin namespace (opened on first use, again after it
 * drops) and the admin REST routes. Members get `forbidden`.
 */
export class AdminApi {
  #socket: AdminSocket | null = null;
  #opening: Promise<AdminSocket> | null = null;

  /** @internal Created by the client: use `client.admin`. */
  constructor(private readonly deps: AdminDeps) {}

  /** Sends `system:broadcast` to every /chat socket (or one room's), on every node. */
  broadcast(content: string, roomId?: string): Promise<BroadcastResult> {
    return this.#request('admin:broadcast', roomId ? { content, roomId } : { content });
  }

  /**
   * Kicks a user from a room, on every node: their sockets there get `room:kicked`
   * and leave, the membership ends, and for `minutes` (left out: the server's
   * KICK_BLOCK_SECONDS; 0 only removes) they may not join or send to it again.
   * @example await client.admin.kick(userId, roomId, 30)
   */
  async kick(userId: string, roomId: string, minutes?: number): Promise<void> {
    await this.#request('admin:kick', minutes === undefined ? { userId, roomId } : { userId, roomId, minutes });
  }

  /**
   * Bans (or unbans) a user: their sockets end and their refresh tokens are
   * revoked. With `minutes`, the ban lifts by itself after that long.
   * @example await client.admin.ban(userId, true, 60 * 24)
   */
  async ban(userId: string, banned = true, minutes?: number): Promise<void> {
    await this.#request('admin:ban', banned && minutes !== undefined ? { userId, banned, minutes } : { userId, banned });
  }

  /** Mutes a user in a room for `minutes` (0 lifts the mute). */
  async mute(userId: string, roomId: string, minutes: number): Promise<void> {
    await this.#request('admin:mute', { userId, roomId, minutes });
  }

  /** Cluster-wide socket and user counts, per node. */
  stats(): Promise<StatsResult> {
    return this.#request('admin:stats', {});
  }

  /** Lists users (REST), `q` matching username or email; page on with `nextCursor`. */
  users(query: { q?: string; limit?: number; cursor?: string } = {}): Promise<UsersPage> {
    return this.deps.authed('GET', `/api/admin/users${queryString(query)}`);
  }

  /** Changes a user's role or ban flag (REST). */
  async updateUser(userId: string, patch: UpdateUserRequest): Promise<User> {
    return (await this.deps.authed<UserResponse>('PATCH', `/api/admin/users/${encodeURIComponent(userId)}`, patch)).user;
  }

  /** The audit log, newest first (REST). */
  audit(query: { limit?: number; cursor?: string } = {}): Promise<AuditPage> {
    return this.deps.authed('GET', `/api/admin/audit${queryString(query)}`);
  }

  /** Closes the /admin socket (the next call opens it again). */
  close(): void {
    this.#opening = null;
    this.#socket?.removeAllListeners();
    this.#socket?.disconnect();
    this.#socket = null;
  }

  async #request<E extends AdminEvent>(event: E, payload: PayloadOf<AdminClientToServerEvents, E>): Promise<ResultOf<AdminClientToServerEvents, E>> {
    return emitWithAck(await this.#connected(), event, payload, this.deps.ackTimeoutMs);
  }

  #connected(): Promise<AdminSocket> {
    if (this.#socket?.connected) return Promise.resolve(this.#socket);
    this.#opening ??= this.#open(true).finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #open(retryExpired: boolean): Promise<AdminSocket> {
    this.close();
    const token = await this.deps.session.accessToken();
    const socket: AdminSocket = io(`${this.deps.endpoints.current()}/admin`, {
      auth: { token },
      reconnection: false,
      forceNew: true,
      timeout: this.deps.connectTimeoutMs,
      ...(this.deps.transports ? { transports: this.deps.transports } : {}),
      ...(this.deps.path ? { path: this.deps.path } : {}),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (err: Error & { data?: { code?: unknown } }) => {
          const code = typeof err.data?.code === 'string' ? err.data.code : null;
          reject(code === 'token_expired' || isSessionEnding(code) ? new RoomcastError(code, `/admin refused: ${code}`) : localError('network', `/admin: ${err.message}`));
        });
      });
    } catch (err) {
      socket.disconnect();
      if (retryExpired && err instanceof RoomcastError && err.code === 'token_expired') {
        this.deps.session.invalidate();
        return this.#open(false);
      }
      throw err;
    }
    this.#socket = socket;
    // Its node is going: the next call opens a socket elsewhere; acks in flight still come back on this one.
    socket.once('server:draining', () => {
      if (this.#socket === socket) this.#socket = null;
    });
    return socket;
  }
}
