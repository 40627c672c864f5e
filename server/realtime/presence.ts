import type { OnlineUser } from '../protocol.js';

/**
 * Who is online in which room, counted per socket so that a user with
 * several devices goes offline only when the last one leaves.
 */
export interface PresenceStore {
  /** Adds a socket; true when it is the user's first in the room. */
  add(roomId: string, user: OnlineUser, socketId: string): Promise<boolean>;
  /** Removes a socket; true when it was the user's last in the room. */
  remove(roomId: string, userId: string, socketId: string): Promise<boolean>;
  list(roomId: string): Promise<OnlineUser[]>;
}

/** Single-node presence (the multi-node setup swaps in a Redis-backed store). */
export class MemoryPresenceStore implements PresenceStore {
  private readonly rooms = new Map<string, Map<string, { username: string; sockets: Set<string> }>>();

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
}
