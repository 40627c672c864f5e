import type { Knex } from 'knex';

// Issue 19, retention: old messages are deleted, a seq prefix of each room at
// a time (db/stores/retention-store.ts), so what history can still answer is
// one number per room.
//  - rooms.retention_days: the room's own setting; null follows the server's
//    MESSAGE_RETENTION_DAYS, 0 keeps the room's messages for ever.
//  - rooms.oldest_seq: the first seq retention kept (every lower seq is gone);
//    history, the room and the join answer carry it as `oldestSeq`, so a
//    client tells a retention cut from a gap.
//  - rooms.pruned_change: the highest change number among the messages
//    retention deleted; a change-log catch-up from before it cannot be
//    answered whole any more (the "too old, refetch" answer).
// Retention walks the existing (room_id, seq) index: no new index on the
// messages table's hot insert path. Audit retention finds old entries by
// audit_log_created_at (admin actions are rare: the index costs nothing).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rooms', (t) => {
    t.integer('retention_days');
    t.integer('oldest_seq').notNullable().defaultTo(1);
    t.bigInteger('pruned_change').notNullable().defaultTo(0);
  });
  await knex.raw('alter table rooms add constraint rooms_retention_days_range check (retention_days between 0 and 36500)');
  await knex.raw('create index audit_log_created_at on audit_log (created_at)');
  // A message's mention rows by its room and seq: what retention (a seq range)
  // and a message deletion remove; the primary key leads with user_id.
  await knex.raw('create index message_mentions_room_seq on message_mentions (room_id, seq)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists message_mentions_room_seq');
  await knex.raw('drop index if exists audit_log_created_at');
  await knex.raw('alter table rooms drop constraint if exists rooms_retention_days_range');
  await knex.schema.alterTable('rooms', (t) => {
    t.dropColumn('pruned_change');
    t.dropColumn('oldest_seq');
    t.dropColumn('retention_days');
  });
}
