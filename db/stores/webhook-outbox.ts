// The webhook outbox, as SQL the other stores run inside their own
// transactions: an event becomes one webhook_deliveries row per endpoint
// subscribed to its type, committed (or rolled back) with the change itself.
import type { Knex } from 'knex';
import type { WebhookEventType } from '../../server/protocol.js';

/** An event on its way into the outbox: its room (the ordering lane; null: none) and its `data`. */
export interface OutboxEvent {
  type: WebhookEventType;
  roomId: string | null;
  data: unknown;
}

/**
 * `insert ... select` of one row per (event, subscribed endpoint), for a
 * `source` select of (type, lane, data, ord) columns. Rows go in `ord` order,
 * so `seq` (the per-room delivery order) follows it.
 */
export const outboxInsertSql = (source: string): string => `
  insert into webhook_deliveries (endpoint_id, type, lane, data)
  select e.id, ev.type, ev.lane, ev.data
    from (${source}) ev
    join webhook_endpoints e on ev.type = any(e.events)
   order by ev.ord, e.id`;

/** A timestamptz as the wire's ISO string (what toISOString gives), inside SQL. */
export const isoSql = (column: string): string => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The message.created events of the group commit's `ins` CTE (see
 * message-store.ts): an extra CTE for APPEND_BATCH_SQL, used only while some
 * endpoint subscribes to message.created, so the send path pays nothing otherwise.
 */
export const MESSAGE_CREATED_OUTBOX_CTE = `, webhook_outbox as (${outboxInsertSql(`
    select 'message.created'::text as type, ins.room_id::text as lane,
           jsonb_build_object('id', ins.id::text, 'roomId', ins.room_id, 'seq', ins.seq, 'change', ins.change, 'userId', ins.user_id,
                              'username', u.username, 'content', ins.content, 'clientMsgId', ins.client_msg_id,
                              'createdAt', ${isoSql('ins.created_at')}, 'editedAt', null, 'deleted', false,
                              'mentions', coalesce(to_jsonb(ins.mentions), '[]'::jsonb),
                              'replyToSeq', ins.reply_to_seq, 'replyCount', 0, 'lastReplyAt', null,
                              'reactions', '[]'::jsonb) as data,
           row_number() over (order by ins.room_id, ins.seq) as ord
      from ins join users u on u.id = ins.user_id`)}
)`;

/**
 * Whether some endpoint may want an event type (see webhook-subscriptions.ts):
 * false lets a store skip the outbox statement altogether.
 */
export interface OutboxGate {
  wants(type: WebhookEventType): boolean;
}

/** Lets every event through (a store built without a gate writes the outbox always; it is empty without endpoints). */
export const OPEN_GATE: OutboxGate = { wants: () => true };

/**
 * Writes `events` to the outbox through `db` (a transaction, so they commit
 * with the change); types no endpoint subscribes to are skipped without a statement.
 */
export async function enqueueEvents(db: Knex | Knex.Transaction, gate: OutboxGate, all: readonly OutboxEvent[]): Promise<void> {
  const events = all.filter((e) => gate.wants(e.type));
  if (events.length === 0) return;
  await db.raw(outboxInsertSql('select * from unnest(?::text[], ?::text[], ?::jsonb[]) with ordinality as ev(type, lane, data, ord)'), [
    events.map((e) => e.type),
    events.map((e) => e.roomId ?? ''),
    events.map((e) => JSON.stringify(e.data)),
  ]);
}
