import type { RoomcastError } from './errors.js';

/**
 * A gate that work waits at: `open()` lets waiters through, `shut()` makes new
 * waiters wait again, `fail(err)` rejects waiters now and later.
 */
export class Gate {
  #open = false;
  #error: RoomcastError | null = null;
  #waiters: { resolve: () => void; reject: (err: RoomcastError) => void }[] = [];

  get isOpen(): boolean {
    return this.#open && !this.#error;
  }

  wait(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#open) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  open(): void {
    if (this.#error) return;
    this.#open = true;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  shut(): void {
    this.#open = false;
  }

  /** Rejects every waiter, now and from now on (until `reset`). */
  fail(err: RoomcastError): void {
    this.#error = err;
    this.#open = false;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err);
  }

  reset(): void {
    this.#error = null;
  }
}
