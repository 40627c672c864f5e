import type { Knex } from 'knex';

// Reactions (issue 14): one row per (message, emoji, user), so "one of each
// emoji per user" is the primary key and a repeat is a no-op. The counts are
// aggregated on read (one index range per message, in the same statement as
// the page), so the send hot path writes nothing for them.
// messages.last_reaction remembers what the message's latest reaction change
// was ({ change, emoji, userId, added }), so a node that fills a delivery gap
// from the database emits the same `message:reaction` event as a live one.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('message_reactions', (t) => {
    t.bigInteger('message_id').notNullable().references('messages.id').onDelete('CASCADE');
    t.text('emoji').notNullable();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['message_id', 'emoji', 'user_id']);
  });
  await knex.schema.alterTable('messages', (t) => {
    t.jsonb('last_reaction').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.dropColumn('last_reaction');
  });
  await knex.schema.dropTable('message_reactions');
}
