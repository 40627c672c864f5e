import type { Knex } from 'knex';

// Issue 14, replies and threads: a message may reply to an earlier message of
// its room (by seq); the parent counts its replies and keeps the time of the
// last one. The thread index is partial: plain messages (reply_to_seq null)
// are not in it, so sends that are not replies pay no index upkeep for it.
// No foreign key: the group commit checks the parent itself (same room, not
// deleted), and a key's check would run for every insert.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.integer('reply_to_seq');
    t.integer('reply_count').notNullable().defaultTo(0);
    t.timestamp('last_reply_at', { useTz: true });
  });
  // What GET /api/rooms/:id/messages/:seq/replies range-scans (keyset by seq).
  await knex.raw('create index messages_thread on messages (room_id, reply_to_seq, seq) where reply_to_seq is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists messages_thread');
  await knex.schema.alterTable('messages', (t) => {
    t.dropColumn('last_reply_at');
    t.dropColumn('reply_count');
    t.dropColumn('reply_to_seq');
  });
}
