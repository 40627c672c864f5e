import type { MessageStore } from '../../db/stores/message-store.js';
import type { Logger } from '../logger.js';
import type { BatchPublisher } from '../messages/message-writer.js';
import type { Metrics } from '../metrics/metrics.js';
import type { MemberPublisher } from '../rooms/membership-ports.js';
import type { CommittedChange, CommittedMessage, MemberChange, Message, MessageReactionEvent, ReactionChange } from '../protocol.js';
import { roomChannel } from './channels.js';
import { emitMentions } from './mention-notices.js';
import { latestKindOf, roomOf, RoomSequencer, type Sequenced } from './room-sequencer.js';
import type { ChatNamespace } from './types.js';

/** How long a change waits for a missing predecessor before the gap is read from the database. */
const GAP_WAIT_MS = 150;
/** Changes kept per room for a socket whose join is still reading the room. */
const MAX_HELD_FOR_JOIN = 1_000;
/** Rows one gap fill reads at most; a longer gap is read in several turns. */
const GAP_FILL_ROWS = 500;

/**
 * Delivers a room's committed changes (messages stored, edited, deleted) to
 * this node's sockets, each room in change-number order. Changes from this
 * node and from other nodes (through the adapter) meet here; a node that sees
 * change n+2 before n+1 holds it briefly, then fills the gap from the
 * database instead of delivering out of order or dropping. Sends, edits and
 * deletions all come through `publish`, so every node emits them in one order.
 */
export class MessageDelivery implements BatchPublisher, MemberPublisher {
  private readonly rooms = new Map<string, RoomSequencer>();
  private readonly gapTimers = new Map<string, NodeJS.Timeout>();
  /** Messages that arrived while the first local socket of a room was joining (before `track`). */
  private readonly heldForJoin = new Map<string, Sequenced[]>();
  /** `chat.local`, made once per adapter rather than per emit (issue 18: each is two operators, two Sets and a flags object). */
  private localOperator: ReturnType<ChatNamespace['local']['to']> | null = null;
  private localAdapter: ChatNamespace['adapter'] | null = null;

  constructor(
    private readonly chat: ChatNamespace,
    private readonly store: MessageStore,
    private readonly logger: Logger,
    /** Whether other nodes exist to tell (a Redis adapter is in place). */
    private readonly clustered: boolean,
    private readonly metrics?: Metrics,
  ) {}

  /** Changes committed on this node: deliver here and tell the other nodes. */
  publish(batch: CommittedMessage[]): void {
    if (this.clustered) this.chat.serverSideEmit('messages:committed', batch);
    this.deliver(batch);
  }

  /** A batch committed on another node. */
  receive(batch: CommittedChange[]): void {
    this.deliver(batch);
  }

  /** Membership changes committed on this node (issue 14): in the room's change order, here and on the other nodes. */
  publishMembers(changes: MemberChange[]): void {
    if (changes.length === 0) return;
    const batch = changes.map((member) => ({ member, committedAt: Date.now() }));
    if (this.clustered) this.chat.serverSideEmit('members:committed', batch);
    this.deliver(batch);
  }

  /**
   * A local socket joined a room whose change log it read up to `lastChange`;
   * start tracking the room there if no socket of this node was in it.
   */
  track(roomId: string, lastChange: number): void {
    if (this.rooms.has(roomId)) return;
    const sequencer = new RoomSequencer(lastChange + 1);
    this.rooms.set(roomId, sequencer);
    // A commit that arrived between the socket's join and its reading of
    // lastChange: older ones it read (push drops them), newer ones
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

  private deliver(batch: CommittedChange[]): void {
    for (const item of batch) {
      const roomId = roomOf(item);
      const sequencer = this.liveSequencer(roomId);
      if (!sequencer) {
        this.holdForJoin(item);
        continue;
      }
      this.emit(sequencer.push(item));
      if (sequencer.hasGap) this.scheduleGapFill(roomId);
    }
    // Mentions reach the mentioned users' sockets, in the room or not.
    emitMentions(this.chat, batch);
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

  /** Keeps a change for a local socket that is in the room but not yet tracked (its join is under way). */
  private holdForJoin(item: Sequenced): void {
    const roomId = roomOf(item);
    if (!this.chat.adapter.rooms.has(roomChannel(roomId))) {
      this.heldForJoin.delete(roomId);
      return;
    }
    const held = this.heldForJoin.get(roomId) ?? [];
    if (held.length < MAX_HELD_FOR_JOIN) held.push(item);
    this.heldForJoin.set(roomId, held);
  }

  /** This node's sockets only. Broadcast operators are immutable, so one serves every emit while the adapter stays. */
  private local(): ReturnType<ChatNamespace['local']['to']> {
    if (this.localAdapter !== this.chat.adapter || !this.localOperator) {
      this.localAdapter = this.chat.adapter;
      this.localOperator = this.chat.local;
    }
    return this.localOperator;
  }

  private emit(ready: Sequenced[]): void {
    const now = Date.now();
    const local = this.local();
    for (const item of ready) {
      if ('member' in item) {
        const { roomId, userId, username, change, kind } = item.member;
        local.to(roomChannel(roomId)).emit(kind === 'joined' ? 'member:joined' : 'member:left', { roomId, userId, username, change });
        continue;
      }
      const { message, kind, originSocketId, committedAt, reaction } = item;
      const target = local.to(roomChannel(message.roomId));
      if (kind === undefined || kind === 'new') {
        (originSocketId ? target.except(originSocketId) : target).emit('message:new', message);
      } else if (kind === 'updated') {
        target.emit('message:updated', shared(message));
      } else if (kind === 'reaction') {
        if (reaction) target.emit('message:reaction', reactionEvent(message, reaction));
      } else {
        target.emit('message:deleted', { id: message.id, roomId: message.roomId, seq: message.seq, change: message.change });
      }
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

  /**
   * Reads the changes in [expected, highest waiting) from the database. A
   * number no row carries was superseded (the message changed again later)
   * and is skipped; a committed number is always found, because a room's
   * numbers are handed out one transaction after the other under its row lock.
   */
  private async fillGap(roomId: string): Promise<void> {
    const sequencer = this.rooms.get(roomId);
    if (!sequencer?.hasGap) return;
    const from = sequencer.expected;
    const upTo = sequencer.highestWaiting;
    try {
      const page = await this.store.deliveryChanges(roomId, { after: from - 1, upTo: upTo - 1, limit: GAP_FILL_ROWS });
      const rows = page?.changes ?? [];
      const members = page?.members ?? [];
      // A truncated read vouches only for the numbers up to its last row (messages and members share the page).
      const lastRow = Math.max(rows[rows.length - 1]?.change ?? 0, members[members.length - 1]?.change ?? 0);
      const before = page?.hasMore ? lastRow + 1 : upTo;
      const reactions = page?.reactions;
      const ready = sequencer.fill(rows, before, members, (message) => {
        const reaction = reactions?.get(message.change);
        if (reaction) return { message, kind: 'reaction', reaction, originSocketId: null };
        return { message, kind: latestKindOf(message), originSocketId: null };
      });
      this.emit(ready);
      this.metrics?.gapFills.inc();
      this.logger.info('filled a delivery gap from the database', { roomId, from, upTo, filled: rows.length + members.length, released: ready.length });
    } catch (err) {
      this.logger.warn('could not fill a delivery gap; will retry', { roomId, err });
    }
    if (sequencer.hasGap) this.scheduleGapFill(roomId);
  }
}

/** The room-wide `message:reaction`: counts without `me` (one payload for every receiver), and who changed what. */
function reactionEvent(message: Message, { emoji, userId, added }: ReactionChange): MessageReactionEvent {
  const reactions = (message.reactions ?? []).map(({ emoji: e, count }) => ({ emoji: e, count }));
  return { roomId: message.roomId, messageId: message.id, seq: message.seq, change: message.change, emoji, userId, added, reactions };
}

/** A message as one payload for the whole room: its reactions' `me` is nobody's (false); clients keep their own. */
function shared(message: Message): Message {
  if (!message.reactions?.some((r) => r.me)) return message;
  return { ...message, reactions: message.reactions.map((r) => ({ ...r, me: false })) };
}
