/** Something waiting for an answer until its deadline (epoch ms); `settled` once answered either way. */
export interface Deadlined {
  deadline: number;
  settled: boolean;
}

/**
 * The deadlines of the sends a writer holds, with ONE timer for all of them
 * (issue 18) instead of a timer and two closures per send. Sends are added
 * in the order they arrive, so deadlines only grow along the list and the
 * timer is always armed for the oldest unanswered one. Answered sends leave
 * the front of the list as they settle (batches settle in arrival order), so
 * nothing answered is kept alive until the next timer.
 */
export class SendDeadlines<T extends Deadlined> {
  private items: T[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ms: number,
    /** Answers an item whose deadline passed (already marked settled). */
    private readonly expire: (item: T) => void,
  ) {}

  deadlineFromNow(): number {
    return Date.now() + this.ms;
  }

  add(item: T): void {
    this.items.push(item);
    if (this.timer === null) this.arm(item.deadline);
  }

  /** Call after settling an item: drops the answered ones from the front. */
  settled(): void {
    this.advance();
    if (this.head === this.items.length) this.clear();
  }

  /** Unanswered items keep their own deadlines; this only stops the timer (shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private advance(): void {
    const items = this.items;
    while (this.head < items.length && items[this.head]!.settled) this.head++;
    if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }

  private clear(): void {
    this.items = [];
    this.head = 0;
    this.close();
  }

  private arm(deadline: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, deadline - Date.now()));
  }

  private fire(): void {
    this.timer = null;
    const now = Date.now();
    for (;;) {
      this.advance();
      const next = this.items[this.head];
      if (!next) return this.clear();
      if (next.deadline > now) return this.arm(next.deadline);
      next.settled = true;
      this.expire(next);
    }
  }
}
