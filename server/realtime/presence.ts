import type { OnlineUser } from '../protocol.js';

/** A page of a room's online users, ordered by userId, and how many are online in all. */
export interface OnlineUsersPage {
  online: OnlineUser[];
  /** The last listed userId when more may follow; null at the end. */
  nextCursor: string | null;
  count: number;
}

/** A user who went offline in a room because a sweep removed their last socket there. */
export interface WentOffline {
  roomId: string;
  user: OnlineUser;
}

/**
 * Who is online in which room, counted per socket so that a user with
 * several devices goes offline only when the last one leaves; and which
 * sockets each user has open, for the per-user socket cap.
 */
export interface PresenceStore {
  /** Adds a socket; true when it is the user's first in the room. */
  add(roomId: string, user: OnlineUser, socketId: string): Promise<boolean>;
  /** Removes a socket; true when it was the user's last in the room. */
  remove(roomId: string, userId: string, socketId: string): Promise<boolean>;
  list(roomId: string): Promise<OnlineUser[]>;
  /**
   * Up to `limit` online users with a userId after `after` (null: from the
   * start), so a join answers with a bounded list however big the room.
   */
  page(roomId: string, after: string | null, limit: number): Promise<OnlineUsersPage>;
  /**
   * Removes this node's entries of sockets that `isLive` no longer knows (a
   * backstop: a socket's own leave and disconnect normally remove them).
   */
  sweep(isLive: (socketId: string) => boolean): Promise<WentOffline[]>;
  /** Registers an open socket of a user unless `max` (> 0) are open already; true when registered. */
  openSocket(userId: string, socketId: string, max: number): Promise<boolean>;
  /** Forgets a socket registered by openSocket; calling it twice is harmless. */
  closeSocket(userId: string, socketId: string): Promise<void>;
}

/** Single-node presence (the multi-node setup swaps in a Redis-backed store). */
export class MemoryPresenceStore implements PresenceStore {
  private readonly rooms = new Map<string, Map<string, { username: string; sockets: Set<string> }>>();
  private readonly userSockets = new Map<string, Set<string>>();

  async add(roomId: string, user: OnlineUser, socketId: string): Promise<boolean> {
    let users = this.rooms.get(roomId);
    if (!users) this.rooms.set(roomId, (users = new Map()));
    let entry = users.get(user.userId);
    if (!entry) users.set(user.userId, (entry = { username: user.username, sockets: new Set() }));
    const first = entry.sockets.size === 0;
    entry.sockets.add(socketId);
    return first;
  }

  async remove(roomId: string, userId: string, socketId: string): Promise<boolean> {
    const users = this.rooms.get(roomId);
    const entry = users?.get(userId);
    if (!users || !entry || !entry.sockets.delete(socketId)) return false;
    if (entry.sockets.size > 0) return false;
    users.delete(userId);
    if (users.size === 0) this.rooms.delete(roomId);
    return true;
  }

  async list(roomId: string): Promise<OnlineUser[]> {
    return [...(this.rooms.get(roomId) ?? [])].map(([userId, { username }]) => ({ userId, username }));
  }

  async page(roomId: string, after: string | null, limit: number): Promise<OnlineUsersPage> {
    const users = this.rooms.get(roomId);
    if (!users) return { online: [], nextCursor: null, count: 0 };
    const ids = [...users.keys()].filter((id) => after === null || id > after).sort();
    const online = ids.slice(0, limit).map((userId) => ({ userId, username: users.get(userId)!.username }));
    return { online, nextCursor: ids.length > limit ? online[online.length - 1]!.userId : null, count: users.size };
  }

  async sweep(isLive: (socketId: string) => boolean): Promise<WentOffline[]> {
    const offline: WentOffline[] = [];
    for (const [roomId, users] of [...this.rooms]) {
      for (const [userId, { username, sockets }] of [...users]) {
        for (const socketId of [...sockets]) {
          if (!isLive(socketId) && (await this.remove(roomId, userId, socketId))) offline.push({ roomId, user: { userId, username } });
        }
      }
    }
    return offline;
  }

  // Synchronous check-and-add: parallel handshakes of one user cannot all pass.
  async openSocket(userId: string, socketId: string, max: number): Promise<boolean> {
    let sockets = this.userSockets.get(userId);
    if (max > 0 && sockets && sockets.size >= max) return false;
    if (!sockets) this.userSockets.set(userId, (sockets = new Set()));
    sockets.add(socketId);
    return true;
  }

  async closeSocket(userId: string, socketId: string): Promise<void> {
    const sockets = this.userSockets.get(userId);
    if (sockets?.delete(socketId) && sockets.size === 0) this.userSockets.delete(userId);
  }
}
