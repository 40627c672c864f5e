import type { AttemptOutcome, DueDelivery, WebhookStore } from '../../db/stores/webhook-store.js';
import type { WebhookConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { signedHeaders } from './webhook-signing.js';
import { postWebhook } from './webhook-sender.js';

/** Deliveries claimed per round: the heads of that many (endpoint, room) lanes, sent in parallel. */
const CLAIM_LIMIT = 50;
/** How often each dispatcher deletes delivered deliveries past WEBHOOK_RETENTION_DAYS (harmless when several do). */
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * The delay before retry number `attempts + 1`: RETRY_BASE doubling per
 * attempt up to RETRY_MAX, with "equal jitter" (between half and all of it),
 * so the first retry comes within RETRY_BASE and receivers that come back
 * are not hit by every node at the same instant.
 */
export function retryDelayMs(attempts: number, config: Pick<WebhookConfig, 'retryBaseMs' | 'retryMaxMs'>, random = Math.random): number {
  const ceiling = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.min(attempts, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** The body every attempt of a delivery sends (the same bytes each time). */
export const webhookBody = (due: Pick<DueDelivery, 'type' | 'createdAt' | 'data'>): string =>
  JSON.stringify({ type: due.type, timestamp: due.createdAt.toISOString(), data: due.data });

export interface DispatcherDeps {
  store: Pick<WebhookStore, 'dispatch' | 'pruneDelivered'>;
  /** Whether any endpoint exists: idle dispatchers do not even query. */
  anyEndpoint: () => boolean;
  config: WebhookConfig;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Every node runs one: it claims due deliveries (SKIP LOCKED, so nodes share
 * the work and never send one delivery twice at once), signs and sends them,
 * and records the outcomes, in a loop that sleeps POLL_MS when there is
 * nothing to do. Lanes keep room order: only the oldest pending delivery of a
 * room for an endpoint is ever claimed.
 */
export class WebhookDispatcher {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly stopping = new AbortController();

  constructor(private readonly deps: DispatcherDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops after the round in flight, waiting for it at most `waitMs`: a round
   * cut short when the database closes is rolled back, and its deliveries
   * stay pending for another node (same webhook-id).
   */
  async stop(waitMs = 2_000): Promise<void> {
    this.running = false;
    this.wake?.();
    this.stopping.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    let prunedAt = 0;
    while (this.running) {
      if (this.deps.config.retentionDays > 0 && Date.now() - prunedAt > PRUNE_EVERY_MS) {
        prunedAt = Date.now();
        await this.deps.store.pruneDelivered(this.deps.config.retentionDays).catch((err: Error) => this.deps.logger.warn('webhook pruning failed', { err: err.message }));
      }
      let claimed = 0;
      if (this.deps.anyEndpoint()) {
        try {
          const round = await this.deps.store.dispatch(CLAIM_LIMIT, this.deps.config.retryWindowSeconds, (due) => this.sendAll(due));
          claimed = round.claimed;
          for (let i = 0; i < round.gaveUp; i++) this.deps.metrics.webhookAttempt('gave_up');
        } catch (err) {
          if (this.running) this.deps.logger.warn('webhook dispatch round failed', { err: (err as Error).message });
        }
      }
      if (claimed === 0 && this.running) await this.sleep(this.deps.config.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async sendAll(due: DueDelivery[]): Promise<AttemptOutcome[]> {
    const outcomes = await Promise.all(due.map((d) => this.send(d)));
    // Cut short by stop(): record nothing, so the round rolls back and every
    // delivery of it stays as it was, for this node's next start or another node.
    if (this.stopping.signal.aborted) throw new Error('webhook dispatcher stopped');
    return outcomes;
  }

  private async send(due: DueDelivery): Promise<AttemptOutcome> {
    const body = webhookBody(due);
    const { timeoutMs, allowPrivateNetworks } = this.deps.config;
    const result = await postWebhook(due.url, signedHeaders(due.previousSecret ? [due.secret, due.previousSecret] : [due.secret], due.id, body), body, { timeoutMs, allowPrivateNetworks, signal: this.stopping.signal });
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      this.deps.metrics.webhookAttempt('delivered');
      return { seq: due.seq, ok: true, status: result.status };
    }
    this.deps.metrics.webhookAttempt('failed');
    const error = result.status === null ? result.error : `HTTP ${result.status}`;
    return { seq: due.seq, ok: false, status: result.status, error, retryInMs: retryDelayMs(due.attempts, this.deps.config) };
  }
}
