import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('username').notNullable();
    t.text('email').notNullable();
    t.text('password_hash').notNullable();
    t.enu('role', ['admin', 'member'], { useNative: true, enumName: 'user_role' }).notNullable();
    t.boolean('banned').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Case-insensitive uniqueness without citext (which PGlite loads only on demand).
  await knex.raw('create unique index users_username_lower_unique on users (lower(username))');
  await knex.raw('create unique index users_email_lower_unique on users (lower(email))');

  await knex.schema.createTable('refresh_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.uuid('family_id').notNullable();
    t.text('token_hash').notNullable().unique();
    t.enu('client', ['browser', 'native'], { useNative: true, enumName: 'client_mode' }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.uuid('replaced_by');
    t.index(['family_id']);
    t.index(['user_id']);
  });

  await knex.schema.createTable('rooms', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.enu('visibility', ['public', 'private'], { useNative: true, enumName: 'room_visibility' })
      .notNullable()
      .defaultTo('public');
    t.boolean('read_only').notNullable().defaultTo(false);
    t.boolean('archived').notNullable().defaultTo(false);
    // The last seq handed out in this room; bumped in the same transaction as the insert.
    t.integer('last_seq').notNullable().defaultTo(0);
    t.uuid('created_by').references('users.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('room_members', (t) => {
    t.uuid('room_id').notNullable().references('rooms.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['room_id', 'user_id']);
    t.index(['user_id']);
  });

  await knex.schema.createTable('messages', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('room_id').notNullable().references('rooms.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('content').notNullable();
    t.uuid('client_msg_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('edited_at', { useTz: true });
    t.timestamp('deleted_at', { useTz: true });
    // The unique (room_id, seq) index is also what history range scans use.
    t.unique(['room_id', 'seq'], { indexName: 'messages_room_seq_unique' });
    t.unique(['user_id', 'client_msg_id'], { indexName: 'messages_user_client_msg_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('messages');
  await knex.schema.dropTable('room_members');
  await knex.schema.dropTable('rooms');
  await knex.schema.dropTable('refresh_tokens');
  await knex.schema.dropTable('users');
  await knex.raw('drop type if exists room_visibility, client_mode, user_role');
}
