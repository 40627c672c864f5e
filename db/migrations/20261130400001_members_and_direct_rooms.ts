import type { Knex } from 'knex';

// Issue 14, members of private rooms and direct messages.
// - room_member_changes: every membership change (a member joins or leaves)
//   takes the room's next change number (rooms.last_change, the counter of
//   the change log) in the transaction of the change, so catch-up replays
//   membership beside messages. (room_id, change) is unique across the two
//   tables by construction: both take numbers from the one counter.
// - rooms.dm_low / dm_high: a direct room's two users in uuid order; the
//   unique pair is what makes opening a direct room idempotent even when both
//   users open it at once on different nodes (the second insert conflicts).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('room_member_changes', (t) => {
    t.uuid('room_id').notNullable().references('rooms.id').onDelete('CASCADE');
    t.bigInteger('change').notNullable();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['room_id', 'change']);
  });
  await knex.raw("alter table room_member_changes add constraint room_member_changes_kind check (kind in ('joined', 'left'))");
  await knex.schema.alterTable('rooms', (t) => {
    t.uuid('dm_low').references('users.id').onDelete('CASCADE');
    t.uuid('dm_high').references('users.id').onDelete('CASCADE');
  });
  await knex.raw('alter table rooms add constraint rooms_dm_pair_ordered check (dm_low is null and dm_high is null or dm_low < dm_high)');
  await knex.raw('create unique index rooms_dm_pair_unique on rooms (dm_low, dm_high) where dm_low is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists rooms_dm_pair_unique');
  await knex.raw('alter table rooms drop constraint if exists rooms_dm_pair_ordered');
  await knex.schema.alterTable('rooms', (t) => {
    t.dropColumn('dm_low');
    t.dropColumn('dm_high');
  });
  await knex.schema.dropTable('room_member_changes');
}
