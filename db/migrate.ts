import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
// Arbitrary, fixed: every node takes the same advisory lock before migrating.
const MIGRATION_LOCK_KEY = 72_110_001;

export const migrationConfig = {
  directory: MIGRATIONS_DIR,
  loadExtensions: ['.ts'],
  tableName: 'knex_migrations',
};

/**
 * Runs pending migrations. On PostgreSQL the nodes that start together queue
 * on an advisory lock, so exactly one migrates and the others find it done.
 * PGlite has one connection and one process, so it needs no lock.
 */
export async function migrateToLatest(db: Database): Promise<void> {
  if (db.kind === 'pglite') {
    await db.knex.migrate.latest(migrationConfig);
    return;
  }
  const connection = await db.knex.client.acquireConnection();
  try {
    await db.knex.raw('select pg_advisory_lock(?)', [MIGRATION_LOCK_KEY]).connection(connection);
    try {
      await db.knex.migrate.latest(migrationConfig);
    } finally {
      await db.knex.raw('select pg_advisory_unlock(?)', [MIGRATION_LOCK_KEY]).connection(connection);
    }
  } finally {
    await db.knex.client.releaseConnection(connection);
  }
}
