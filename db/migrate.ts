import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import type { Database } from './database.js';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
// The migrations are files like this one: `.ts` when the sources run (tsx),
// `.js` in the compiled build (`npm run build` → dist/db/migrations).
const MIGRATION_EXTENSION = path.extname(fileURLToPath(import.meta.url));
// Arbitrary, fixed: every node takes the same advisory lock before migrating.
const MIGRATION_LOCK_KEY = 72_110_001;

/**
 * The migration files next to this module. Knex records each migration by
 * name and refuses to start when a recorded one is missing, so a migration
 * is always named after its source file (`…_core.ts`) whichever of the source
 * or the compiled file runs: a database migrated by `npm start` and one
 * migrated by the compiled build (or an image of either) are the same to it.
 */
class MigrationFiles implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    const files = await readdir(MIGRATIONS_DIR);
    return files.filter((file) => path.extname(file) === MIGRATION_EXTENSION && !file.endsWith('.d.ts')).sort();
  }

  getMigrationName(file: string): string {
    return `${path.basename(file, MIGRATION_EXTENSION)}.ts`;
  }

  async getMigration(file: string): Promise<Knex.Migration> {
    return (await import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href)) as Knex.Migration;
  }
}

export const migrationConfig: Knex.MigratorConfig = {
  migrationSource: new MigrationFiles(),
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
