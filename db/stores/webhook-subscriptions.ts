import type { WebhookEventType } from '../../server/protocol.js';
import type { OutboxGate } from './webhook-outbox.js';
import type { WebhookStore } from './webhook-store.js';

/**
 * Which event types some endpoint subscribes to, cached so the send path asks
 * memory, not the database: with no endpoint, no store writes the outbox. Read
 * again every `refreshMs` and at once after a change on this node. A "nobody
 * listens" is believed only while the read it comes from started less than
 * MAX_AGE (2 × refreshMs) ago; before the first read, after a failed one and
 * when reads fall behind, every type is let through (a store then runs its
 * outbox statement, which writes nothing without endpoints). Registration
 * answers only after MAX_AGE (webhook-service.ts), so every node's cache has
 * seen a new endpoint before its 201: events committed after it are never
 * skipped, on any node.
 */
export class WebhookSubscriptions implements OutboxGate {
  private types: ReadonlySet<WebhookEventType> | null = null;
  /** performance.now() when the read behind `types` started. */
  private readAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: WebhookStore,
    private readonly refreshMs: number,
  ) {}

  /** How old a read may be for its "nobody listens" to hold; registration waits this long. */
  get maxAgeMs(): number {
    return 2 * this.refreshMs;
  }

  wants(type: WebhookEventType): boolean {
    const types = this.current();
    return types === null || types.has(type);
  }

  /** Whether some endpoint exists (as far as the cache knows): the dispatchers idle otherwise. */
  any(): boolean {
    const types = this.current();
    return types === null || types.size > 0;
  }

  async refresh(): Promise<void> {
    const startedAt = performance.now();
    try {
      const types = new Set(await this.store.subscribedTypes());
      // A slower, older read must not replace a newer one.
      if (startedAt >= this.readAt) {
        this.types = types;
        this.readAt = startedAt;
      }
    } catch {
      this.types = null;
    }
  }

  private current(): ReadonlySet<WebhookEventType> | null {
    return this.types !== null && performance.now() - this.readAt <= this.maxAgeMs ? this.types : null;
  }

  start(): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
