import type { HistoryPage, Message } from './protocol.js';

export interface SequencerDeps {
  /** Hands one message to the app: called exactly once per seq, in seq order. */
  deliver(message: Message): void;
  /** Fetches the messages after `afterSeq`, oldest first (room:history). */
  fetchAfter(afterSeq: number): Promise<HistoryPage>;
  /** A gap could not be filled now; it is filled again on the next `reachHead` or message. */
  onFillError(err: unknown): void;
}

/** Bound on history pages per fill, so a misbehaving server cannot loop us. */
const MAX_PAGES_PER_FILL = 10_000;

/**
 * Turns the messages of one room, from whatever source (live message:new,
 * own acks, history catch-up), into one gap-free, duplicate-free stream in
 * seq order. A message past a gap waits in `#pending` while the gap is
 * fetched from history; anything at or below `lastSeq` is a repeat and dropped.
 * Until `start(lastSeq)` (the join answer) everything waits.
 */
export class RoomSequencer {
  #lastSeq: number | null;
  /** The highest seq known to exist in the room. */
  #head = 0;
  readonly #pending = new Map<number, Message>();
  #filling: Promise<void> | null = null;
  #stopped = false;

  constructor(
    private readonly deps: SequencerDeps,
    lastSeq: number | null = null,
  ) {
    this.#lastSeq = lastSeq;
  }

  /** The seq of the last message delivered (null before start). */
  get lastSeq(): number | null {
    return this.#lastSeq;
  }

  /** Whether messages are known to exist that have not been delivered yet. */
  get behind(): boolean {
    return this.#lastSeq !== null && this.#head > this.#lastSeq;
  }

  /** Sets where delivery starts (unless a position is already known), then delivers what waits. */
  start(lastSeq: number): void {
    this.#lastSeq ??= lastSeq;
    this.reachHead(lastSeq);
  }

  /** Offers one message; delivered now, later (after a gap fill), or dropped as a repeat. */
  accept(message: Message): void {
    if (this.#stopped) return;
    this.#store(message);
    this.#drain();
    if (this.behind) void this.fill();
  }

  /** The room holds at least `seq` messages (from a join answer): catch up if behind. */
  reachHead(seq: number): void {
    if (this.#stopped) return;
    this.#head = Math.max(this.#head, seq);
    this.#drain();
    if (this.behind) void this.fill();
  }

  /** Fetches history from `lastSeq` until caught up (one fill at a time). */
  fill(): Promise<void> {
    this.#filling ??= this.#fill().finally(() => {
      this.#filling = null;
    });
    return this.#filling;
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.clear();
  }

  async #fill(): Promise<void> {
    try {
      for (let page = 0; page < MAX_PAGES_PER_FILL && !this.#stopped && this.behind; page++) {
        const from = this.#lastSeq ?? 0;
        const { messages, hasMore } = await this.deps.fetchAfter(from);
        if (this.#stopped) return;
        for (const message of messages) this.#store(message);
        this.#drain();
        // No progress and nothing more: the head we heard of is not there (yet); wait for the next hint.
        if (messages.length === 0 || (!hasMore && (this.#lastSeq ?? 0) === from)) break;
      }
    } catch (err) {
      if (!this.#stopped) this.deps.onFillError(err);
    }
  }

  #store(message: Message): void {
    this.#head = Math.max(this.#head, message.seq);
    if (this.#lastSeq !== null && message.seq <= this.#lastSeq) return;
    if (!this.#pending.has(message.seq)) this.#pending.set(message.seq, message);
  }

  #drain(): void {
    if (this.#lastSeq === null) return;
    for (const seq of [...this.#pending.keys()]) if (seq <= this.#lastSeq) this.#pending.delete(seq);
    let next = this.#pending.get(this.#lastSeq + 1);
    while (next && !this.#stopped) {
      this.#pending.delete(next.seq);
      this.#lastSeq = next.seq;
      this.deps.deliver(next);
      next = this.#pending.get(this.#lastSeq + 1);
    }
  }
}
