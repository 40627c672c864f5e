import type { WebhookEventType } from '../../server/protocol.js';
import type { OutboxGate } from './webhook-outbox.js';
import type { WebhookStore } from './webhook-store.js';

/**
 * Which event types some endpoint subscribes to, cached so the send path asks
 * memory, not the database: with no endpoint, no store writes the outbox. Read
 * again every `refreshMs` (so an endpoint made on another node is seen within
 * that time) and at once after a change on this node. Until the first read
 * succeeds, and after a failed read, every type is let through: a store then
 * runs its outbox statement, which writes nothing without endpoints, so no
 * event is ever skipped by a stale "nobody listens".
 */
export class WebhookSubscriptions implements OutboxGate {
  private types: ReadonlySet<WebhookEventType> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: WebhookStore,
    private readonly refreshMs: number,
  ) {}

  wants(type: WebhookEventType): boolean {
    return this.types === null || this.types.has(type);
  }

  /** Whether some endpoint exists (as far as the cache knows): the dispatchers idle otherwise. */
  any(): boolean {
    return this.types === null || this.types.size > 0;
  }

  async refresh(): Promise<void> {
    try {
      this.types = new Set(await this.store.subscribedTypes());
    } catch {
      this.types = null;
    }
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
