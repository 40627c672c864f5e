import type { ReadStore } from '../../db/stores/read-store.js';
import { AppError } from '../errors.js';
import type { ReadResult, RoomReadsPage } from '../protocol.js';
import type { Actor, RoomService } from './room-service.js';

/**
 * What read state must tell the sockets (server/realtime implements it):
 * the user's other devices, and the room when it has receipts on.
 */
export interface ReadNotifier {
  /** `read:updated` to every socket of the user on every node, but `exceptSocketId` (the one that read). */
  readUpdated(userId: string, event: { roomId: string; readSeq: number }, exceptSocketId: string | null): void;
  /** A `read:receipt` for the room (the implementation throttles and coalesces per user and room). */
  receipt(event: { roomId: string; userId: string; readSeq: number }): void;
}

/** The user's budget of read-state writes (RateLimits; cluster-wide with Redis). */
export interface ReadLimits {
  consumeRead(userId: string): Promise<void>;
}

/**
 * Read state, one rule for `room:read` and `PUT /api/rooms/:id/read`: the
 * reader must see the room (`not_found` otherwise, as for history), `seq` is
 * at most the room's lastSeq (`validation_failed` beyond), and the stored
 * position only moves up. A move is told to the user's other sockets, and
 * to the room as a receipt when the room has readReceipts on.
 */
export class ReadStateService {
  constructor(
    private readonly rooms: Pick<RoomService, 'get'>,
    private readonly store: ReadStore,
    private readonly notifier: ReadNotifier,
    private readonly limits: ReadLimits,
  ) {}

  /** Sets the actor's read seq of the room to `seq` if that is higher; answers the stored value. `originSocketId`: the socket that read (it hears no read:updated). */
  async markRead(actor: Actor, roomId: string, seq: number, originSocketId: string | null = null): Promise<ReadResult> {
    // Spent first, so a flood of refused reads costs the database nothing either.
    await this.limits.consumeRead(actor.userId);
    const room = await this.rooms.get(actor, roomId);
    // lastSeq only grows, so a seq within it now stays within it.
    if (seq > room.lastSeq) {
      // Details in the shape of every validation_failed: a list of { path, message }.
      throw new AppError('validation_failed', `seq ${seq} is beyond the room's last seq ${room.lastSeq}`, [{ path: 'seq', message: `must be at most ${room.lastSeq} (the room's lastSeq)` }]);
    }
    const { readSeq, moved } = await this.store.advance(roomId, actor.userId, seq);
    if (moved) {
      this.notifier.readUpdated(actor.userId, { roomId, readSeq }, originSocketId);
      if (room.readReceipts) this.notifier.receipt({ roomId, userId: actor.userId, readSeq });
    }
    return { readSeq };
  }

  /** The room members' read seqs, a page at a time; for whoever may read the room. */
  async reads(actor: Actor, roomId: string, page: { limit: number; cursor?: string | undefined }): Promise<RoomReadsPage> {
    await this.rooms.get(actor, roomId);
    return this.store.listMembers(roomId, page);
  }
}
