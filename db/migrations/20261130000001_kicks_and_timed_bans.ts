import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A kick keeps its user out of the room until `until`: in the database, so
  // every node (and a restarted one) refuses the rejoin and the sends alike.
  await knex.schema.createTable('room_kicks', (t) => {
    t.uuid('room_id').notNullable().references('rooms.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('until', { useTz: true }).notNullable();
    t.primary(['room_id', 'user_id']);
  });
  // A ban with an end; null keeps the ban until an admin lifts it.
  await knex.schema.alterTable('users', (t) => {
    t.timestamp('banned_until', { useTz: true });
  });
  // The expiry sweep looks only at timed bans.
  await knex.raw('create index users_banned_until on users (banned_until) where banned_until is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists users_banned_until');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('banned_until');
  });
  await knex.schema.dropTable('room_kicks');
}
