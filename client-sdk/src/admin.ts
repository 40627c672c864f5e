import { io, type Socket } from 'socket.io-client';
import type { Transport } from './connection.js';
import type { Endpoints } from './endpoints.js';
import { localError, RoomcastError } from './errors.js';
import type {
  Ack,
  AdminClientToServerEvents,
  AdminServerToClientEvents,
  AuditPage,
  BroadcastResult,
  StatsResult,
  UpdateUserRequest,
  User,
  UsersPage,
} from './protocol.js';
import type { Session } from './session.js';

type AdminSocket = Socket<AdminServerToClientEvents, AdminClientToServerEvents>;
type AdminEvent = keyof AdminClientToServerEvents;
type AdminPayload<E extends AdminEvent> = Parameters<AdminClientToServerEvents[E]>[0];
type AdminResult<E extends AdminEvent> = AdminClientToServerEvents[E] extends (payload: never, ack: (ack: Ack<infer T>) => void) => void ? T : never;

interface AckEmitter {
  timeout(ms: number): { emit(event: string, payload: unknown, ack: (err: Error | null, answer: unknown) => void): unknown };
}

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

  /** Removes a user's sockets from a room, on every node. */
  async kick(userId: string, roomId: string): Promise<void> {
    await this.#request('admin:kick', { userId, roomId });
  }

  /** Bans (or unbans) a user: their sockets end and their refresh tokens are revoked. */
  async ban(userId: string, banned = true): Promise<void> {
    await this.#request('admin:ban', { userId, banned });
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
    return (await this.deps.authed<{ user: User }>('PATCH', `/api/admin/users/${encodeURIComponent(userId)}`, patch)).user;
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

  async #request<E extends AdminEvent>(event: E, payload: AdminPayload<E>): Promise<AdminResult<E>> {
    const socket = await this.#connected();
    const answer = await new Promise<unknown>((resolve, reject) => {
      (socket as unknown as AckEmitter).timeout(this.deps.ackTimeoutMs).emit(event, payload, (err, ack) => {
        if (err) reject(localError(socket.connected ? 'timeout' : 'disconnected', `${event}: ${err.message}`));
        else resolve(ack);
      });
    });
    const ack = answer as Ack<AdminResult<E> & object> | null;
    if (!ack || typeof ack !== 'object') throw new RoomcastError('internal', `${event}: malformed answer`);
    if (!ack.ok) throw RoomcastError.fromBody(ack.error);
    const { ok: _ok, ...data } = ack;
    return data as unknown as AdminResult<E>;
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
          reject(code === 'unauthorized' || code === 'token_expired' || code === 'forbidden' || code === 'banned' ? new RoomcastError(code, `/admin refused: ${code}`) : localError('network', `/admin: ${err.message}`));
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
    return socket;
  }
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
