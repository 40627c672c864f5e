import type { Knex } from 'knex';

// Issue 13, the numbered change log: every change to a room's messages (a
// message stored, edited, deleted) takes the next number of the room's
// `last_change`, and the message carries the number of its latest change.
// Catch-up follows these numbers, so an edit or a delete made while a client
// was away is replayed too. Existing messages are numbered in seq order
// (change = seq: gap-free where seq is), each room's counter starting at
// its highest number, so a populated database keeps every message.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rooms', (t) => {
    t.bigInteger('last_change').notNullable().defaultTo(0);
  });
  await knex.schema.alterTable('messages', (t) => {
    t.bigInteger('change');
  });
  await knex.raw('update messages set change = seq');
  await knex.raw(`
    update rooms r set last_change = m.max_change
      from (select room_id, max(change) as max_change from messages group by room_id) m
     where r.id = m.room_id`);
  await knex.raw('alter table messages alter column change set not null');
  // Unique per room, and what a change-log page range-scans.
  await knex.raw('create unique index messages_room_change_unique on messages (room_id, change)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists messages_room_change_unique');
  await knex.schema.alterTable('messages', (t) => {
    t.dropColumn('change');
  });
  await knex.schema.alterTable('rooms', (t) => {
    t.dropColumn('last_change');
  });
}
