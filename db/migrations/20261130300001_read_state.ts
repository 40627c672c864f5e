import type { Knex } from 'knex';

// Read state: the last seq each user has read in each room, and whether a
// room sends read receipts. A table of its own rather than a column of
// room_members: a user may read a public room without being a member (the
// REST twin, or before a join), and reading must not make them one (a member
// of a public room shows as `joined` and is listed by GET /api/rooms/:id/reads).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('room_reads', (t) => {
    t.uuid('room_id').notNullable().references('rooms.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.integer('read_seq').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // (room_id, user_id): one user's row per room, and the room's readers in user order for /reads.
    t.primary(['room_id', 'user_id']);
  });
  await knex.schema.alterTable('rooms', (t) => {
    // Off by default: a large room does not want a receipt per reader.
    t.boolean('read_receipts').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rooms', (t) => {
    t.dropColumn('read_receipts');
  });
  await knex.schema.dropTable('room_reads');
}
