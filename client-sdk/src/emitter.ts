/** A listener of one event: every event carries exactly one payload. */
export type Listener<T> = (payload: T) => void;

type ListenerMap<Events> = { [K in keyof Events]?: Set<Listener<Events[K]>> };

/**
 * A small typed event emitter (`Events` maps each event name to its payload).
 * A listener that throws does not break the SDK's bookkeeping: the error is
 * reported (reportError / console.error) and the other listeners still run.
 */
export class Emitter<Events extends object> {
  readonly #listeners: ListenerMap<Events> = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    (this.#listeners[event] ??= new Set()).add(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener called at most once. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes a listener (or all listeners of `event` when none is given). */
  off<K extends keyof Events>(event: K, listener?: Listener<Events[K]>): void {
    if (listener) this.#listeners[event]?.delete(listener);
    else delete this.#listeners[event];
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#listeners[event]?.size ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const listeners = this.#listeners[event];
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(payload);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }
}

/** An emitter whose `emit` is public: for the SDK's internal parts. */
export class EventHub<Events extends object> extends Emitter<Events> {
  override emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    super.emit(event, payload);
  }
}

function reportListenerError(err: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(err);
  else console.error('[roomcast] an event listener threw', err);
}
