/**
 * At most one emit per key per window, coalesced: the first value of a quiet
 * key goes out at once and opens a window; values arriving inside it replace
 * each other, and the last one goes out when the window ends (opening the
 * next). So a burst costs at most two emits per window, and the final value
 * is never lost. Per process: keys are not shared between nodes.
 */
export class CoalescingThrottle<T> {
  readonly #windows = new Map<string, { timer: NodeJS.Timeout; pending: T | null }>();
  #closed = false;

  constructor(
    private readonly windowMs: number,
    private readonly emit: (value: T) => void,
  ) {}

  push(key: string, value: T): void {
    if (this.#closed) return;
    const open = this.#windows.get(key);
    if (open) {
      open.pending = value;
      return;
    }
    this.emit(value);
    this.#open(key);
  }

  /** Keys with an open window (for tests and metrics). */
  get size(): number {
    return this.#windows.size;
  }

  /** Drops every window and pending value; later pushes are ignored. */
  close(): void {
    this.#closed = true;
    for (const { timer } of this.#windows.values()) clearTimeout(timer);
    this.#windows.clear();
  }

  #open(key: string): void {
    const window = { pending: null as T | null, timer: setTimeout(() => this.#end(key), this.windowMs) };
    window.timer.unref();
    this.#windows.set(key, window);
  }

  #end(key: string): void {
    const window = this.#windows.get(key);
    this.#windows.delete(key);
    if (!window || window.pending === null) return;
    this.emit(window.pending);
    this.#open(key);
  }
}
