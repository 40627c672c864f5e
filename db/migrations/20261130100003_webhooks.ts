import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Endpoints an admin registered: where to POST, the Standard Webhooks
  // secret (whsec_...), and the event types it wants.
  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('url').notNullable();
    t.text('secret').notNullable();
    t.specificType('events', 'text[]').notNullable();
    // After a rotation the old secret signs too (a second signature) until
    // previous_secret_until, so receivers can switch without a gap.
    t.text('previous_secret');
    t.timestamp('previous_secret_until', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // The outbox: one row per (event, endpoint), written in the transaction of
  // the change that caused the event, so an event exists exactly when its
  // change committed. `seq` orders a room's events for one endpoint; `id` is
  // the webhook-id receivers dedupe by (the same on every retry).
  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('seq').primary();
    t.uuid('id').notNullable().unique().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('endpoint_id').notNullable().references('webhook_endpoints.id').onDelete('CASCADE');
    t.text('type').notNullable();
    // The room the event belongs to; events without one (user.banned) share the '' lane.
    t.text('lane').notNullable();
    t.jsonb('data').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Retries end (status failed) once this is older than the retry window; a replay moves it to now.
    t.timestamp('retry_since', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('last_status');
    t.text('last_error');
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // The dispatcher looks only at pending rows: due ones, and per lane the oldest.
  await knex.raw(`create index webhook_deliveries_pending on webhook_deliveries (endpoint_id, lane, seq) where status = 'pending'`);
  await knex.raw(`create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending'`);
  await knex.raw('create index webhook_deliveries_by_endpoint on webhook_deliveries (endpoint_id, seq desc)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_deliveries');
  await knex.schema.dropTable('webhook_endpoints');
}
