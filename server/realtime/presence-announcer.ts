import type { OnlineUser } from '../protocol.js';
import { roomChannel } from './channels.js';
import type { ChatNamespace } from './types.js';

export interface PresenceBatching {
  /** Above this many online users a room's changes are coalesced; 0: never. */
  threshold: number;
  intervalMs: number;
}

/** Rooms whose size a node remembers at most (the oldest noted goes first): the map stays bounded whatever happens. */
const MAX_COUNTED_ROOMS = 10_000;

/** The changes of one room waiting for the next batch: each user's latest state. */
type Pending = Map<string, { user: OnlineUser; online: boolean }>;

/**
 * Tells a room that a user came online or went offline. In a small room
 * each change is its own `presence` event (the contract's); in a room with
 * more than `threshold` online users the changes this node sees are
 * coalesced into one `presence:batch` per room per interval, so a crowd
 * arriving at once costs each member one event a second instead of one per
 * arrival. The room's size is the count last read by a join on this node
 * (kept up to date by the changes in between): an estimate is enough to
 * choose between the two forms.
 */
export class PresenceAnnouncer {
  private readonly counts = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly chat: ChatNamespace,
    private readonly batching: PresenceBatching,
  ) {}

  /** The room's online count as a join just read it. */
  noteCount(roomId: string, count: number): void {
    this.counts.delete(roomId);
    this.counts.set(roomId, count);
    if (this.counts.size > MAX_COUNTED_ROOMS) this.counts.delete(this.counts.keys().next().value!);
  }

  /** Announces a change; `exceptSocketId` (the joiner) is not told of itself in the single-event form. */
  announce(roomId: string, user: OnlineUser, online: boolean, exceptSocketId?: string): void {
    const count = this.counts.get(roomId);
    if (count !== undefined) this.counts.set(roomId, Math.max(0, count + (online ? 0 : -1)));
    const pending = this.pending.get(roomId);
    if (pending) {
      pending.set(user.userId, { user, online });
    } else if (this.batching.threshold > 0 && (count ?? 0) > this.batching.threshold) {
      this.pending.set(roomId, new Map([[user.userId, { user, online }]]));
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.flush(roomId);
      }, this.batching.intervalMs);
      timer.unref();
      this.timers.add(timer);
    } else {
      const to = this.chat.to(roomChannel(roomId));
      (exceptSocketId ? to.except(exceptSocketId) : to).emit('presence', { roomId, ...user, online });
    }
    // Nothing of the room left on this node: forget its count (the map stays as small as this node's rooms).
    if (!online && !this.chat.adapter.rooms.has(roomChannel(roomId))) this.counts.delete(roomId);
  }

  /** Stops the batch timers (shutdown); batches not sent yet are dropped with the sockets. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }

  private flush(roomId: string): void {
    const pending = this.pending.get(roomId);
    this.pending.delete(roomId);
    if (!pending || pending.size === 0) return;
    const joined: OnlineUser[] = [];
    const left: OnlineUser[] = [];
    for (const { user, online } of pending.values()) (online ? joined : left).push(user);
    this.chat.to(roomChannel(roomId)).emit('presence:batch', { roomId, joined, left });
  }
}
