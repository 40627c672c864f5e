import type { Knex } from 'knex';

// Users of an app's own identity provider (AUTH_JWKS_URL and friends): one row
// per (issuer, subject), created on the first token that names it, pointing at
// the Roomcast user it maps to. Such users have no password and may have no
// email, so both columns lose NOT NULL (an expand step: old nodes still write
// both, and never read the new table).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('external_identities', (t) => {
    t.text('issuer').notNullable();
    t.text('subject').notNullable();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['issuer', 'subject']);
    t.index(['user_id']);
  });
  await knex.schema.alterTable('users', (t) => {
    t.text('email').nullable().alter();
    t.text('password_hash').nullable().alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('external_identities');
}
