import type { Knex } from 'knex';

// GET /api/rooms pages newest first on (created_at, id): without this index
// every page sorted all rooms.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rooms', (t) => {
    t.index(['created_at', 'id'], 'rooms_created_at_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rooms', (t) => {
    t.dropIndex(['created_at', 'id'], 'rooms_created_at_id_index');
  });
}
