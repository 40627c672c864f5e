import type { CommittedChange, CommittedKind, MemberChange, Message } from '../protocol.js';

/** A committed change waiting for its turn: a message's state, the kind of change and its origin, or a membership change (issue 14). */
export type Sequenced = CommittedChange;

/** The change number of a sequenced change. */
export const changeOf = (item: Sequenced): number => ('member' in item ? item.member.change : item.message.change);

/** The room of a sequenced change. */
export const roomOf = (item: Sequenced): string => ('member' in item ? item.member.roomId : item.message.roomId);

/**
 * The kind of change a message's stored state records as its latest (what a
 * row read back from the database was). A message that has replies changed
 * after its creation (each reply moves its replyCount and its change number).
 */
export function latestKindOf(message: Message): CommittedKind {
  if (message.deleted) return 'deleted';
  return message.editedAt === null && message.lastReplyAt === null ? 'new' : 'updated';
}

/**
 * Puts one room's changes back in change-number order on this node. Changes
 * below the next expected number are dropped (already delivered, or older
 * than what a joining socket read); changes above it wait until the gap is
 * filled, by arrival or by `fill` from the database.
 */
export class RoomSequencer {
  private readonly waiting = new Map<number, Sequenced>();

  constructor(private nextChange: number) {}

  get expected(): number {
    return this.nextChange;
  }

  get hasGap(): boolean {
    return this.waiting.size > 0;
  }

  /** The highest change number waiting behind a gap. */
  get highestWaiting(): number {
    let highest = 0;
    for (const change of this.waiting.keys()) highest = Math.max(highest, change);
    return highest;
  }

  /** Accepts a change; returns those now deliverable, in order. */
  push(item: Sequenced): Sequenced[] {
    const change = changeOf(item);
    // The usual case, a change in order with nothing waiting: no map entry (issue 18).
    if (change === this.nextChange && this.waiting.size === 0) {
      this.nextChange++;
      return [item];
    }
    if (change < this.nextChange || this.waiting.has(change)) return [];
    this.waiting.set(change, item);
    return this.release();
  }

  /**
   * Fills a gap with the rows read from the database whose latest change is
   * in [expected, before) (every such row, change-ordered). A number in that
   * range that no row carries and that is not waiting was superseded: its
   * message changed again later, and that later change is waiting or still
   * on its way, so the number is skipped. Returns what is deliverable.
   */
  fill(messages: readonly Message[], before: number, members: readonly MemberChange[] = [], itemOf: (message: Message) => Sequenced | undefined = () => undefined): Sequenced[] {
    for (const message of messages) {
      const { change } = message;
      if (change >= this.nextChange && change < before && !this.waiting.has(change)) {
        // A row's latest change a stored message alone cannot tell (a reaction) comes from `itemOf`.
        this.waiting.set(change, itemOf(message) ?? { message, kind: latestKindOf(message), originSocketId: null });
      }
    }
    // Membership changes are never superseded: each number is its own row.
    for (const member of members) {
      const { change } = member;
      if (change >= this.nextChange && change < before && !this.waiting.has(change)) this.waiting.set(change, { member });
    }
    return this.release(before);
  }

  /** Releases from the next expected number on; numbers below `skipBelow` that are missing are superseded ones. */
  private release(skipBelow = 0): Sequenced[] {
    const ready: Sequenced[] = [];
    for (;;) {
      const item = this.waiting.get(this.nextChange);
      if (item) {
        this.waiting.delete(this.nextChange);
        ready.push(item);
      } else if (this.nextChange >= skipBelow) {
        return ready;
      }
      this.nextChange++;
    }
  }
}
