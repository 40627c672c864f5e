import type { MessageStore } from '../../db/stores/message-store.js';
import type { Logger } from '../logger.js';
import type { BatchPublisher } from '../messages/message-writer.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CommittedMessage } from '../protocol.js';
import { roomChannel } from './channels.js';
import { RoomSequencer, type Sequenced } from './room-sequencer.js';
import type { ChatNamespace } from './types.js';

/** How long a message waits for a missing predecessor before the gap is read from the database. */
const GAP_WAIT_MS = 150;
/** Messages kept per room for a socket whose join is still reading the room. */
const MAX_HELD_FOR_JOIN = 1_000;

/**
 * Delivers committed messages to this node's sockets, each room in seq order.
 * Commits from this node and from other nodes (through the adapter) meet
 * here; a node that sees seq n+2 before n+1 holds it briefly, then fills the
 * gap from the database instead of delivering out of order or dropping.
 */
export class MessageDelivery implements BatchPublisher {
  private readonly rooms = new Map<string, RoomSequencer>();
  private readonly gapTimers = new Map<string, NodeJS.Timeout>();
  /** Messages that arrived while the first local socket of a room was joining (before `track`). */
  private readonly heldForJoin = new Map<string, Sequenced[]>();

  constructor(
    private readonly chat: ChatNamespace,
    private readonly store: MessageStore,
    private readonly logger: Logger,
    /** Whether other nodes exist to tell (a Redis adapter is in place). */
    private readonly clustered: boolean,
    private readonly metrics?: Metrics,
  ) {}

  /** A batch committed on this node: deliver here and tell the other nodes. */
  publish(batch: CommittedMessage[]): void {
    if (this.clustered) this.chat.serverSideEmit('messages:committed', batch);
    this.deliver(batch);
  }

  /** A batch committed on another node. */
  receive(batch: CommittedMessage[]): void {
    this.deliver(batch);
  }

  /**
   * A local socket joined a room whose history it read up to `lastSeq`;
   * start tracking the room there if no socket of this node was in it.
   */
  track(roomId: string, lastSeq: number): void {
    if (this.rooms.has(roomId)) return;
    const sequencer = new RoomSequencer(lastSeq + 1);
    this.rooms.set(roomId, sequencer);
    // A commit that arrived between the socket's join and its reading of
    // lastSeq: older ones are in its history (push drops them), newer ones
    // would otherwise wait for the room's next message to be noticed.
    const held = this.heldForJoin.get(roomId);
    if (!held) return;
    this.heldForJoin.delete(roomId);
    for (const item of held) this.emit(sequencer.push(item));
    if (sequencer.hasGap) this.scheduleGapFill(roomId);
  }

  close(): void {
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.gapTimers.clear();
    this.rooms.clear();
    this.heldForJoin.clear();
  }

  private deliver(batch: CommittedMessage[]): void {
    for (const item of batch) {
      const roomId = item.message.roomId;
      const sequencer = this.liveSequencer(roomId);
      if (!sequencer) {
        this.holdForJoin(item);
        continue;
      }
      this.emit(sequencer.push(item));
      if (sequencer.hasGap) this.scheduleGapFill(roomId);
    }
  }

  /** The room's sequencer while this node has sockets in it; forgotten once they are all gone. */
  private liveSequencer(roomId: string): RoomSequencer | undefined {
    const sequencer = this.rooms.get(roomId);
    if (sequencer && !this.chat.adapter.rooms.has(roomChannel(roomId))) {
      this.rooms.delete(roomId);
      return undefined;
    }
    return sequencer;
  }

  /** Keeps a message for a local socket that is in the room but not yet tracked (its join is under way). */
  private holdForJoin(item: Sequenced): void {
    const roomId = item.message.roomId;
    if (!this.chat.adapter.rooms.has(roomChannel(roomId))) {
      this.heldForJoin.delete(roomId);
      return;
    }
    const held = this.heldForJoin.get(roomId) ?? [];
    if (held.length < MAX_HELD_FOR_JOIN) held.push(item);
    this.heldForJoin.set(roomId, held);
  }

  private emit(ready: Sequenced[]): void {
    const now = Date.now();
    for (const { message, originSocketId, committedAt } of ready) {
      const target = this.chat.local.to(roomChannel(message.roomId));
      (originSocketId ? target.except(originSocketId) : target).emit('message:new', message);
      // Clocks of different nodes differ a little; a negative lag is skew, not speed.
      if (committedAt !== undefined) this.metrics?.deliveryLagSeconds.observe(Math.max(0, now - committedAt) / 1000);
    }
  }

  private scheduleGapFill(roomId: string): void {
    if (this.gapTimers.has(roomId)) return;
    this.gapTimers.set(
      roomId,
      setTimeout(() => {
        this.gapTimers.delete(roomId);
        void this.fillGap(roomId);
      }, GAP_WAIT_MS),
    );
  }

  private async fillGap(roomId: string): Promise<void> {
    const sequencer = this.rooms.get(roomId);
    if (!sequencer?.hasGap) return;
    const from = sequencer.expected;
    const upTo = sequencer.highestWaiting;
    try {
      const { messages } = await this.store.history(roomId, { afterSeq: from - 1, limit: Math.min(200, upTo - from + 1) });
      const ready = sequencer.fill(messages.filter((m) => m.seq < upTo));
      // Seqs that are committed are always found; if one is not, do not stall the room.
      this.emit(ready.length > 0 ? ready : sequencer.skipGap());
      this.metrics?.gapFills.inc();
      this.logger.info('filled a delivery gap from the database', { roomId, from, upTo, filled: ready.length });
    } catch (err) {
      this.logger.warn('could not fill a delivery gap; will retry', { roomId, err });
    }
    if (sequencer.hasGap) this.scheduleGapFill(roomId);
  }
}
