import type { ChangesPage, HistoryPage, MemberChange, MemberUpdate, Message, MessageDeletedEvent, MessageReactionEvent } from './protocol.js';
import { RoomcastError } from './errors.js';
import { SeqRelease, type MessageSink } from './seq-release.js';

export interface SequencerDeps {
  /** The app's events: each change at most once, in change order per message, new messages in seq order. */
  sink: MessageSink;
  /** A membership change of the room (issue 14), in change order; at most once each. */
  member?(change: MemberUpdate): void;
  /** The room's changes after `after` (room:changes / GET …/changes). */
  fetchChanges(after: number): Promise<ChangesPage>;
  /** The room's messages after `afterSeq`, oldest first (only when the app's view is behind by seq, see `behindBySeq`). */
  fetchHistory(afterSeq: number): Promise<HistoryPage>;
  /** A catch-up could not finish now; call `fill()` again later. */
  onFillError(err: unknown): void;
  /**
   * Retention (issue 19): the view's change position was from before what
   * retention kept, so the sequencer went on from `lastChange` (new messages
   * still come, by seq, from history); edits and deletes the app missed of
   * messages it holds are not replayed: the app refetches what it shows.
   */
  resync?(point: RetentionPoint): void;
}

/** Where retention left a room when a catch-up from the view's position could not be answered whole. */
export interface RetentionPoint {
  /** The first seq the room still holds. */
  oldestSeq: number;
  /** The room's change number when that was read: the view goes on after it. */
  lastChange: number;
}

/** The retention point a `changes_expired` answer carries, or null for any other failure. */
function expiredAt(err: unknown): RetentionPoint | null {
  if (!(err instanceof RoomcastError) || err.code !== 'changes_expired') return null;
  const details = err.details as Partial<RetentionPoint> | undefined;
  return typeof details?.oldestSeq === 'number' && typeof details.lastChange === 'number' ? { oldestSeq: details.oldestSeq, lastChange: details.lastChange } : null;
}

/** Where an app's view of a room stands: what it persisted, or null for "from the join on". */
export interface ViewPosition {
  lastSeq: number | null;
  lastChange: number | null;
}

/** What a room:join answered, as far as the sequencer cares. */
export interface JoinPoint {
  /** The room's last seq at the join. */
  lastSeq: number;
  /** The room's last change at the join: the socket's live stream goes on after it. */
  lastChange: number;
  /** The first catch-up page (only when the join asked with `afterChange`). */
  changes?: Message[];
  hasMore?: boolean;
  members?: MemberChange[];
  /** Retention (issue 19): the join's `afterChange` was from before what retention kept (no `changes` then). */
  changesExpired?: boolean;
  /** Retention (issue 19): the room's first kept seq at the join (`room.oldestSeq`; 1 from servers without retention). */
  oldestSeq?: number;
}

/** One change as it arrived: a message state (message:new/updated, acks, pages) or a live delete. */
type Change =
  | { message: Message; deleted?: undefined; reaction?: undefined; member?: undefined }
  | { message?: undefined; deleted: MessageDeletedEvent; reaction?: undefined; member?: undefined }
  | { message?: undefined; deleted?: undefined; reaction: MessageReactionEvent; member?: undefined }
  | { message?: undefined; deleted?: undefined; reaction?: undefined; member: MemberUpdate };

/** Bound on pages per fill, so a misbehaving server cannot loop us. */
const MAX_PAGES_PER_FILL = 10_000;

/**
 * Turns the changes of one room, from whatever source (live events, the
 * app's own acks, catch-up pages), into one stream in change order with
 * nothing applied twice. A change past a gap waits in `#pending` while the
 * gap is fetched (`fetchChanges` from `lastChange`: the page holds the
 * current state of every message changed since, so a number missing from it
 * was superseded); anything at or below `lastChange` is a repeat and dropped.
 * Applied changes go to a SeqRelease, which shows new messages in seq order.
 * Until `start` (the join answer) and between `suspend` and the next `start`
 * (reconnecting), changes wait and nothing is fetched.
 */
export class RoomSequencer {
  #lastChange: number | null;
  readonly #release: SeqRelease;
  /** The highest change / seq known to exist in the room. */
  #headChange = 0;
  #headSeq = 0;
  /** The last page said there is more. */
  #morePages = false;
  readonly #pending = new Map<number, Change>();
  #waiting = true;
  /** Set by the first `start`: before it nothing is handed out (the app adds its listeners after `join`). */
  #started = false;
  #filling: Promise<void> | null = null;
  #refill = false;
  #stopped = false;

  constructor(
    private readonly deps: SequencerDeps,
    position: ViewPosition = { lastSeq: null, lastChange: null },
  ) {
    this.#lastChange = position.lastChange;
    this.#release = new SeqRelease(deps.sink, position.lastSeq);
  }

  /** The change number the app's view is at (null before the first join answer). */
  get lastChange(): number | null {
    return this.#lastChange;
  }

  /** The seq of the last message shown as new (null before the first join answer). */
  get lastSeq(): number | null {
    return this.#release.highest;
  }

  /** Whether the view is known to be behind the room's change stream. */
  get behindByChange(): boolean {
    return this.#lastChange !== null && (this.#pending.size > 0 || this.#morePages || this.#headChange > this.#lastChange);
  }

  /** Whether messages exist the view has not shown although the change stream is caught up (an `afterSeq` resume). */
  get behindBySeq(): boolean {
    const highest = this.#release.highest;
    return highest !== null && (this.#release.holding || this.#headSeq > highest);
  }

  /**
   * A join answered: the view's position is known from here on (the room's
   * at the join, unless the app gave one). Hands nothing out yet: see `start`.
   */
  anchor(join: Pick<JoinPoint, 'lastSeq' | 'lastChange'>): void {
    if (this.#stopped) return;
    this.#lastChange ??= join.lastChange;
    this.#release.start(join.lastSeq);
    this.#headSeq = Math.max(this.#headSeq, join.lastSeq);
    this.#headChange = Math.max(this.#headChange, join.lastChange);
  }

  /** The join answered (first join or re-join): apply its page, then catch up and let live changes through. */
  start(join: JoinPoint): void {
    if (this.#stopped) return;
    this.anchor(join);
    this.#waiting = false;
    this.#started = true;
    if (join.changesExpired) this.#resync({ oldestSeq: join.oldestSeq ?? 1, lastChange: join.lastChange });
    else if (join.changes) this.#applyPage({ changes: join.changes, hasMore: join.hasMore ?? false, lastChange: join.lastChange, ...(join.members ? { members: join.members } : {}) });
    else this.#drain();
    // A fill still running belongs to the previous socket: run another once it is done.
    if (this.#filling) this.#refill = true;
    this.#kick();
  }

  /** The connection dropped: hold changes and fetch nothing until the next `start`. */
  suspend(): void {
    this.#waiting = true;
  }

  /** Offers a message state (message:new, message:updated, a send or edit ack). */
  acceptMessage(message: Message): void {
    this.#headSeq = Math.max(this.#headSeq, message.seq);
    this.#offer(message.change, { message });
  }

  /** Offers a live message:deleted. */
  acceptDeleted(event: MessageDeletedEvent): void {
    this.#headSeq = Math.max(this.#headSeq, event.seq);
    this.#offer(event.change, { deleted: event });
  }

  /** Offers a live message:reaction. */
  acceptReaction(event: MessageReactionEvent): void {
    this.#headSeq = Math.max(this.#headSeq, event.seq);
    this.#offer(event.change, { reaction: event });
  }

  /** Offers a live membership change (member:joined / member:left, issue 14). */
  acceptMember(change: MemberUpdate): void {
    this.#offer(change.change, { member: change });
  }

  /** Catches up (change pages first, then seq pages if still behind); one fill at a time. */
  fill(): Promise<void> {
    if (this.#filling) return this.#filling;
    this.#filling = this.#fill().finally(() => {
      this.#filling = null;
      if (this.#refill) {
        this.#refill = false;
        this.#kick();
      }
    });
    return this.#filling;
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.clear();
    this.#release.clear();
  }

  #offer(change: number, entry: Change): void {
    if (this.#stopped) return;
    this.#headChange = Math.max(this.#headChange, change);
    if (this.#lastChange !== null && change <= this.#lastChange) return;
    if (!this.#pending.has(change) || entry.message || entry.member) this.#pending.set(change, entry);
    this.#drain();
    this.#kick();
  }

  #kick(): void {
    if (!this.#stopped && !this.#waiting && (this.behindByChange || this.behindBySeq)) void this.fill();
  }

  /** Applies pending changes while they are consecutive. */
  #drain(): void {
    if (!this.#started || this.#lastChange === null) return;
    for (const change of this.#pending.keys()) if (change <= this.#lastChange) this.#pending.delete(change);
    for (let next = this.#pending.get(this.#lastChange + 1); next && !this.#stopped; next = this.#pending.get(this.#lastChange + 1)) {
      if (next.member) this.deps.member?.(next.member);
      else if (next.message) this.#release.apply(next.message);
      // A delete (or reaction) of a message not shown yet: its state comes with the catch-up this gap starts.
      else if (next.deleted ? !this.#release.applyDeleted(next.deleted) : !this.#release.applyReaction(next.reaction!)) break;
      this.#pending.delete(this.#lastChange + 1);
      this.#lastChange += 1;
    }
    this.#release.prune(this.#lastChange);
  }

  /**
   * Retention (issue 19): changes after the view's position are gone for
   * good. The change stream goes on from the room's `lastChange` (what waits
   * at or below it is dropped), the seq view from the cut (a retention cut is
   * not a gap), and the app hears of it; new messages then come from history.
   */
  #resync(point: RetentionPoint): void {
    this.#lastChange = Math.max(this.#lastChange ?? 0, point.lastChange);
    this.#headChange = Math.max(this.#headChange, point.lastChange);
    this.#morePages = false;
    this.#headSeq = Math.max(this.#headSeq, point.oldestSeq - 1);
    this.#release.skipTo(point.oldestSeq - 1);
    this.deps.resync?.(point);
    this.#drain();
  }

  /** A catch-up page: every row is a message's current state, in change order; skipped numbers were superseded. */
  #applyPage(page: ChangesPage): void {
    // Messages and membership changes (issue 14) share the page, merged by change number.
    const entries: Change[] = [...page.changes.map((message) => ({ message })), ...(page.members ?? []).map((member) => ({ member }))];
    const numberOf = (entry: Change) => (entry.member ? entry.member.change : entry.message!.change);
    entries.sort((x, y) => numberOf(x) - numberOf(y));
    for (const entry of entries) {
      const change = numberOf(entry);
      if (entry.message) this.#headSeq = Math.max(this.#headSeq, entry.message.seq);
      if (this.#lastChange !== null && change <= this.#lastChange) continue;
      if (entry.member) this.deps.member?.(entry.member);
      else this.#release.apply(entry.message!);
      this.#lastChange = change;
    }
    this.#morePages = page.hasMore;
    this.#headChange = Math.max(this.#headChange, page.lastChange);
    this.#drain();
  }

  async #fill(): Promise<void> {
    try {
      for (let page = 0; page < MAX_PAGES_PER_FILL && !this.#stopped && !this.#waiting; page++) {
        if (this.behindByChange) {
          const from = this.#lastChange ?? 0;
          let result: ChangesPage;
          try {
            result = await this.deps.fetchChanges(from);
          } catch (err) {
            const point = expiredAt(err);
            if (!point || this.#stopped) throw err;
            this.#resync(point);
            continue;
          }
          if (this.#stopped) return;
          this.#applyPage(result);
          // Nothing new although the room said there is: the server's view lags; try again later.
          if (!result.hasMore && (this.#lastChange ?? 0) === from && this.behindByChange) throw new Error(`catch-up from change ${from} made no progress`);
          continue;
        }
        if (this.behindBySeq) {
          const from = this.#release.highest ?? 0;
          const { messages, oldestSeq } = await this.deps.fetchHistory(from);
          if (this.#stopped) return;
          // Retention (issue 19): a page that starts past `from` at or below the room's first kept seq met a cut, not a gap.
          const cut = Math.min(oldestSeq ?? 1, messages[0]?.seq ?? Number.POSITIVE_INFINITY);
          if (cut - 1 > from) this.#release.skipTo(cut - 1);
          for (const message of messages) {
            this.#headSeq = Math.max(this.#headSeq, message.seq);
            if (message.seq > from) this.#release.apply(message);
          }
          if ((this.#release.highest ?? 0) === from) return; // the seq we heard of is not there (yet)
          continue;
        }
        return;
      }
    } catch (err) {
      if (!this.#stopped) this.deps.onFillError(err);
    }
  }
}
