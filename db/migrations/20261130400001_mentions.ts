import type { Knex } from 'knex';

// Issue 14, mentions. `@username` in a message is resolved at commit to the
// mentioned members of the room and stored twice, each for what it is cheap at:
//  - messages.mentions (uuid[], null when none): returned with the message in
//    history, acks, live events and change pages without a join;
//  - message_mentions (user_id, room_id, seq): what a user's mentionCount in
//    GET /api/rooms range-scans, like unreadCount does messages: an ordered,
//    index-only scan of the primary key from (user, room, readSeq) that stops
//    at the cap (a deletion removes its rows, so no join to messages). A GIN
//    index on messages.mentions cannot bound its scan by room and seq: it
//    reads every mention of the user in every room, once per listed room
//    (measured in docs/protocol.md, "Mentions").
// Plain messages write neither.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.specificType('mentions', 'uuid[]');
  });
  await knex.schema.createTable('message_mentions', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.uuid('room_id').notNullable().references('rooms.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.primary(['user_id', 'room_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('message_mentions');
  await knex.schema.alterTable('messages', (t) => {
    t.dropColumn('mentions');
  });
}
