import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Where a history read came from. */
export type HistorySource = 'socket' | 'rest';
/** Which rate limit refused. */
export type LimitKind = 'message' | 'login' | 'registration' | 'refresh' | 'sockets' | 'rooms' | 'edit' | 'join' | 'admin' | 'room_create' | 'history' | 'api_key' | 'read' | 'reaction' | 'membership';
/** Where an authentication failure was answered. */
export type AuthVia = 'rest' | 'handshake';

/** A namespace whose connected sockets are counted at scrape time. */
export interface CountedNamespace {
  readonly name: string;
  readonly sockets: { readonly size: number };
  readonly adapter: { readonly rooms: Map<string, Set<string>> };
}

/** Seconds: from sub-millisecond local commits to multi-second stalls. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500];

/**
 * One node's Prometheus registry and every Roomcast metric. Each app owns
 * its own registry (no prom-client global), so several nodes in one process
 * keep separate numbers; every series carries the `node` label. Recording is
 * a counter increment or a histogram observe, with no per-message labels.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly messagesStored: Counter;
  readonly sendAckSeconds: Histogram;
  readonly commitSeconds: Histogram;
  readonly batchSize: Histogram;
  readonly deliveryLagSeconds: Histogram;
  readonly gapFills: Counter;
  private readonly historyCatchUps: Counter<'source'>;
  private readonly rateLimited: Counter<'kind'>;
  private readonly passwordTasks: Counter<'op' | 'lane' | 'outcome'>;
  private readonly authFailures: Counter<'code' | 'via'>;
  private readonly redisErrors: Counter<'client'>;
  private readonly redisReconnects: Counter<'client'>;
  private readonly slowConsumers: Counter;
  private readonly webhookAttempts: Counter<'outcome'>;
  private webhookLag: (() => Promise<number>) | null = null;
  private readonly beforePublishSeconds: Histogram<'outcome'>;
  private readonly namespaces: CountedNamespace[] = [];

  constructor(nodeId: string) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: nodeId });
    // Includes nodejs_eventloop_lag_seconds and its percentiles.
    collectDefaultMetrics({ register: this.registry });
    const namespaces = this.namespaces;

    new Gauge({
      name: 'roomcast_sockets_connected',
      help: 'Sockets connected to this node, by namespace',
      labelNames: ['namespace'],
      registers,
      collect() {
        for (const nsp of namespaces) this.set({ namespace: nsp.name }, nsp.sockets.size);
      },
    });
    new Gauge({
      name: 'roomcast_rooms_active',
      help: 'Chat rooms with at least one socket on this node',
      registers,
      collect() {
        const chat = namespaces.find((nsp) => nsp.name === '/chat');
        let rooms = 0;
        if (chat) for (const name of chat.adapter.rooms.keys()) if (name.startsWith('room:')) rooms++;
        this.set(rooms);
      },
    });
    this.messagesStored = new Counter({ name: 'roomcast_messages_stored_total', help: 'Messages committed by this node', registers });
    this.sendAckSeconds = new Histogram({
      name: 'roomcast_message_send_ack_seconds',
      help: 'message:send from a valid payload to its ack (stored, refused or failed)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'roomcast_store_commit_seconds',
      help: 'One group-commit transaction of messages, retries included',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({ name: 'roomcast_store_batch_size', help: 'Messages per group commit', buckets: BATCH_BUCKETS, registers });
    this.deliveryLagSeconds = new Histogram({
      name: 'roomcast_delivery_lag_seconds',
      help: 'From commit (on any node) to message:new emitted to this node\'s sockets',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.gapFills = new Counter({ name: 'roomcast_delivery_gap_fills_total', help: 'Delivery gaps filled from the database', registers });
    this.historyCatchUps = new Counter({
      name: 'roomcast_history_catchup_requests_total',
      help: 'History reads with afterSeq (clients catching up), by source',
      labelNames: ['source'],
      registers,
    });
    this.rateLimited = new Counter({ name: 'roomcast_rate_limited_total', help: 'Requests refused by a rate limit, by kind', labelNames: ['kind'], registers });
    this.passwordTasks = new Counter({
      name: 'roomcast_password_tasks_total',
      help: 'bcrypt tasks of the password pool, by op (hash, compare), lane (sign-in, sign-up) and outcome (done, refused)',
      labelNames: ['op', 'lane', 'outcome'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'roomcast_auth_failures_total',
      help: 'Refused authentication or authorization, by error code and where',
      labelNames: ['code', 'via'],
      registers,
    });
    this.redisErrors = new Counter({ name: 'roomcast_redis_errors_total', help: 'Redis client errors (adapter and data), by client', labelNames: ['client'], registers });
    this.redisReconnects = new Counter({
      name: 'roomcast_redis_reconnects_total',
      help: 'Redis client reconnection attempts, by client',
      labelNames: ['client'],
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'roomcast_webhook_deliveries_total',
      help: 'Webhook delivery attempts made by this node, by outcome (delivered, failed: will retry, gave_up: marked failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.beforePublishSeconds = new Histogram({
      name: 'roomcast_before_publish_seconds',
      help: 'Before-publish hook calls, from request to verdict, by outcome (accept, reject, replace, failed)',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'roomcast_webhook_lag_seconds',
      help: 'Age of the oldest webhook delivery not yet made (cluster-wide, read from the outbox at scrape time)',
      registers,
      async collect() {
        if (metrics.webhookLag) this.set(await metrics.webhookLag().catch(() => 0));
      },
    });
    this.slowConsumers = new Counter({
      name: 'roomcast_slow_consumers_total',
      help: 'Sockets disconnected for holding more than MAX_SOCKET_BUFFER_BYTES unread',
      registers,
    });
  }

  /** Counts a namespace's sockets (and, for /chat, its rooms) at every scrape. */
  watch(...namespaces: CountedNamespace[]): void {
    this.namespaces.push(...namespaces);
  }

  historyCatchUp(source: HistorySource): void {
    this.historyCatchUps.inc({ source });
  }

  refused(kind: LimitKind): void {
    this.rateLimited.inc({ kind });
  }

  passwordTask(op: 'hash' | 'compare', lane: 'sign-in' | 'sign-up', outcome: 'done' | 'refused'): void {
    this.passwordTasks.inc({ op, lane, outcome });
  }

  authFailed(code: string, via: AuthVia): void {
    this.authFailures.inc({ code, via });
  }

  redisError(client: string): void {
    this.redisErrors.inc({ client });
  }

  redisReconnect(client: string): void {
    this.redisReconnects.inc({ client });
  }

  webhookAttempt(outcome: 'delivered' | 'failed' | 'gave_up'): void {
    this.webhookAttempts.inc({ outcome });
  }

  /** One before-publish hook call: how it ended and how long it took (seconds). */
  beforePublish(outcome: 'accept' | 'reject' | 'replace' | 'failed', seconds: number): void {
    this.beforePublishSeconds.observe({ outcome }, seconds);
  }

  /** Where the webhook lag gauge reads the outbox's oldest pending age (seconds). */
  watchWebhookLag(read: () => Promise<number>): void {
    this.webhookLag = read;
  }

  slowConsumer(): void {
    this.slowConsumers.inc();
  }
}

/** Seconds since a `performance.now()` reading. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
