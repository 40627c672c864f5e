import type { Knex } from 'knex';
import type { WebhookDelivery, WebhookDeliveryPage, WebhookDeliveryStatus, WebhookEndpoint, WebhookEventType } from '../../server/protocol.js';
import { iso } from './row-mappers.js';

interface EndpointRow {
  id: string;
  url: string;
  secret: string;
  events: WebhookEventType[];
  created_at: Date;
}

interface DeliveryRow {
  seq: string;
  id: string;
  type: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  created_at: Date;
  data: unknown;
}

/** A delivery claimed by a dispatcher, with what it needs to send it. */
export interface DueDelivery {
  id: string;
  seq: string;
  type: WebhookEventType;
  data: unknown;
  /** Attempts before this one. */
  attempts: number;
  createdAt: Date;
  url: string;
  secret: string;
  /** The secret before the last rotation, while it still signs too. */
  previousSecret: string | null;
}

/** How one attempt went; `retryInMs` is used when it failed and the retry window is still open. */
export type AttemptOutcome =
  | { seq: string; ok: true; status: number }
  | { seq: string; ok: false; status: number | null; error: string; retryInMs: number };

const toEndpoint = (row: EndpointRow): WebhookEndpoint => ({ id: row.id, url: row.url, events: row.events, secret: row.secret, createdAt: iso(row.created_at) });

const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  type: row.type,
  status: row.status,
  attempts: row.attempts,
  lastStatus: row.last_status,
  lastError: row.last_error,
  nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
  deliveredAt: row.delivered_at ? iso(row.delivered_at) : null,
  createdAt: iso(row.created_at),
  data: row.data,
});

const DELIVERY_COLUMNS = ['seq', 'id', 'type', 'status', 'attempts', 'last_status', 'last_error', 'next_attempt_at', 'delivered_at', 'created_at', 'data'];

/**
 * The due deliveries that head their lane (the oldest pending delivery of a
 * room for an endpoint, whoever holds it), locked for this dispatcher; rows
 * another node holds are skipped, and a node that dies releases them with its
 * connection. `heads` walks the partial index (endpoint_id, lane, seq) one
 * lane at a time (a loose index scan: one probe per lane), so a poll costs
 * the number of lanes, not the number of deliveries waiting behind them.
 */
const CLAIM_SQL = `
with recursive heads as (
  (select endpoint_id, lane, seq from webhook_deliveries
    where status = 'pending' order by endpoint_id, lane, seq limit 1)
  union all
  select n.endpoint_id, n.lane, n.seq
    from heads h
   cross join lateral (
     select w.endpoint_id, w.lane, w.seq from webhook_deliveries w
      where w.status = 'pending' and (w.endpoint_id, w.lane) > (h.endpoint_id, h.lane)
      order by w.endpoint_id, w.lane, w.seq limit 1
   ) n
)
select d.seq, d.id, d.type, d.data, d.attempts, d.created_at, e.url, e.secret,
       case when e.previous_secret_until > now() then e.previous_secret end as previous_secret
  from webhook_deliveries d
  join webhook_endpoints e on e.id = d.endpoint_id
 where d.seq in (select seq from heads)
   and d.status = 'pending' and d.next_attempt_at <= now()
 order by d.seq
 limit ?
   for update of d skip locked`;

/** Writes each attempt's outcome; a failure past the retry window becomes `failed`. */
const SETTLE_SQL = `
update webhook_deliveries d
   set attempts = d.attempts + 1,
       last_status = o.status,
       last_error = o.error,
       status = case when o.ok then 'delivered'
                     when d.retry_since + make_interval(secs => ?) <= now() then 'failed'
                     else 'pending' end,
       delivered_at = case when o.ok then now() end,
       next_attempt_at = case when o.ok then d.next_attempt_at else now() + make_interval(secs => o.retry_ms / 1000.0) end
  from unnest(?::bigint[], ?::boolean[], ?::int[], ?::text[], ?::int[]) as o(seq, ok, status, error, retry_ms)
 where d.seq = o.seq
returning d.status`;

/** Webhook endpoints and their outbox rows (written by the other stores, see webhook-outbox.ts). */
export class WebhookStore {
  constructor(private readonly knex: Knex) {}

  async createEndpoint(input: { url: string; events: readonly WebhookEventType[]; secret: string }): Promise<WebhookEndpoint> {
    const [row] = (await this.knex('webhook_endpoints').insert({ url: input.url, events: [...input.events], secret: input.secret }).returning('*')) as EndpointRow[];
    return toEndpoint(row!);
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    return ((await this.knex('webhook_endpoints').select('*').orderBy('created_at', 'asc')) as EndpointRow[]).map(toEndpoint);
  }

  /** Removes the endpoint and its deliveries (waiting for one in flight); whether there was one. */
  async deleteEndpoint(id: string): Promise<boolean> {
    return (await this.knex('webhook_endpoints').where({ id }).delete()) > 0;
  }

  async endpointExists(id: string): Promise<boolean> {
    return (await this.knex('webhook_endpoints').where({ id }).first('id')) !== undefined;
  }

  /** Makes `secret` the endpoint's secret; the old one goes on signing for `graceSeconds`. Null: no such endpoint. */
  async rotateSecret(id: string, secret: string, graceSeconds: number): Promise<WebhookEndpoint | null> {
    const [row] = (await this.knex('webhook_endpoints')
      .where({ id })
      .update({ previous_secret: this.knex.ref('secret'), previous_secret_until: this.knex.raw('now() + make_interval(secs => ?)', [graceSeconds]), secret })
      .returning('*')) as EndpointRow[];
    return row ? toEndpoint(row) : null;
  }

  /** Event types some endpoint subscribes to (what the outbox gate lets through). */
  async subscribedTypes(): Promise<WebhookEventType[]> {
    const { rows } = (await this.knex.raw('select distinct unnest(events) as type from webhook_endpoints')) as { rows: { type: WebhookEventType }[] };
    return rows.map((r) => r.type);
  }

  /** An endpoint's deliveries, newest first; `cursor` is the previous page's last one. */
  async deliveries(endpointId: string, page: { limit: number; cursor?: string | undefined }): Promise<WebhookDeliveryPage> {
    const query = this.knex('webhook_deliveries').select(DELIVERY_COLUMNS).where({ endpoint_id: endpointId }).orderBy('seq', 'desc').limit(page.limit + 1);
    if (page.cursor) query.whereRaw('seq < (select c.seq from webhook_deliveries c where c.id = ?)', [page.cursor]);
    const rows = (await query) as DeliveryRow[];
    const deliveries = rows.slice(0, page.limit).map(toDelivery);
    return { deliveries, nextCursor: rows.length > page.limit ? deliveries[deliveries.length - 1]!.id : null };
  }

  /** Sends a delivery again (same webhook-id), from now on with a fresh retry window; null if there is no such delivery. */
  async replay(endpointId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    const [row] = (await this.knex('webhook_deliveries')
      .where({ endpoint_id: endpointId, id: deliveryId })
      .update({ status: 'pending', attempts: 0, next_attempt_at: this.knex.fn.now(), retry_since: this.knex.fn.now(), delivered_at: null })
      .returning(DELIVERY_COLUMNS)) as DeliveryRow[];
    return row ? toDelivery(row) : null;
  }

  /**
   * Claims up to `limit` due deliveries and holds them (row locks in one
   * transaction) while `send` attempts them, then records the outcomes and
   * commits. Returns how many were claimed, and how many of them were
   * given up (failed past the retry window). If `send` throws, nothing is
   * recorded (the transaction rolls back). A crash before the commit leaves
   * them pending for the next dispatcher: at least once, same webhook-id.
   */
  async dispatch(limit: number, retryWindowSeconds: number, send: (due: DueDelivery[]) => Promise<AttemptOutcome[]>): Promise<{ claimed: number; gaveUp: number }> {
    // The embedded PGlite has one connection and one process (so one
    // dispatcher): holding it during the HTTP attempts would stall every other
    // query, and there is no other node to keep out.
    if (this.knex.client.config.client !== 'pg') return this.dispatchOn(this.knex, limit, retryWindowSeconds, send);
    return this.knex.transaction((trx) => this.dispatchOn(trx, limit, retryWindowSeconds, send));
  }

  private async dispatchOn(
    db: Knex | Knex.Transaction,
    limit: number,
    retryWindowSeconds: number,
    send: (due: DueDelivery[]) => Promise<AttemptOutcome[]>,
  ): Promise<{ claimed: number; gaveUp: number }> {
    const { rows } = (await db.raw(CLAIM_SQL, [limit])) as {
      rows: { seq: string; id: string; type: WebhookEventType; data: unknown; attempts: number; created_at: Date; url: string; secret: string; previous_secret: string | null }[];
    };
    if (rows.length === 0) return { claimed: 0, gaveUp: 0 };
    const due = rows.map((r) => ({ id: r.id, seq: String(r.seq), type: r.type, data: r.data, attempts: r.attempts, createdAt: r.created_at, url: r.url, secret: r.secret, previousSecret: r.previous_secret }));
    const outcomes = await send(due);
    const settled = (await db.raw(SETTLE_SQL, [
      retryWindowSeconds,
      outcomes.map((o) => o.seq),
      outcomes.map((o) => o.ok),
      outcomes.map((o) => o.status),
      outcomes.map((o) => (o.ok ? null : o.error)),
      outcomes.map((o) => (o.ok ? 0 : Math.round(o.retryInMs))),
    ] as Knex.RawBinding[])) as { rows: { status: WebhookDeliveryStatus }[] };
    return { claimed: rows.length, gaveUp: settled.rows.filter((r) => r.status === 'failed').length };
  }

  /** Deletes delivered deliveries older than `days` days, at most `limit` per call; returns how many. */
  async pruneDelivered(days: number, limit = 10_000): Promise<number> {
    const { rowCount } = (await this.knex.raw(
      `delete from webhook_deliveries where seq in (
         select seq from webhook_deliveries
          where status = 'delivered' and delivered_at < now() - make_interval(days => ?)
          limit ?)`,
      [days, limit],
    )) as { rowCount: number | null };
    return rowCount ?? 0;
  }

  /** Age in seconds of the oldest delivery not yet made (0 when none waits). */
  async oldestPendingAgeSeconds(): Promise<number> {
    const { rows } = (await this.knex.raw(
      `select coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age from webhook_deliveries where status = 'pending'`,
    )) as { rows: { age: number }[] };
    return Number(rows[0]?.age ?? 0);
  }
}
