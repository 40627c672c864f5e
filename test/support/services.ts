// Finds the services the tests run against, in this order: DATABASE_URL /
// REDIS_URL from the environment, else testcontainers (where a Docker engine
// answers), else the embedded PGlite with the Redis tests skipped, saying so.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../db/database.js';
import { createDatabase, dropDatabase, withClient } from '../../db/databases.js';
import { migrateToLatest } from '../../db/migrate.js';

/** Logs and reports of the run; TEST_ARTIFACTS_DIR moves them (a nested run must not touch its parent's). */
export const ARTIFACTS_DIR = path.resolve(process.env.TEST_ARTIFACTS_DIR || 'test-artifacts');
/** Every test skipped for a missing service is listed here; .ci/run fails if the file has lines. */
export const SKIPPED_FILE = path.join(ARTIFACTS_DIR, 'skipped-for-missing-service.txt');

export interface TestServices {
  /** postgres:// URL of a database created for this run, or null for PGlite. */
  databaseUrl: string | null;
  /** Name of this run's migrated template database (null for PGlite): see createMigratedDatabase. */
  templateDatabase: string | null;
  redisUrl: string | null;
  /** How each was found, for the run's first line. */
  describe: string;
  stop(): Promise<void>;
}

interface Stoppable {
  stop(): Promise<unknown>;
}

let dockerAvailable: Promise<boolean> | null = null;

/** Whether a container engine answers (testcontainers' own check; fails in milliseconds without one). */
function hasDocker(): Promise<boolean> {
  dockerAvailable ??= (async () => {
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      await getContainerRuntimeClient();
      return true;
    } catch {
      return false;
    }
  })();
  return dockerAvailable;
}

/** Creates a fresh, empty database on the server of `baseUrl` and returns its URL. */
export async function createFreshDatabase(baseUrl: string, prefix = 'roomcast_test'): Promise<string> {
  return createDatabase(baseUrl, `${prefix}_${Date.now()}_${process.pid}_${Math.floor(Math.random() * 1e6)}`);
}

/**
 * Creates a fresh database that is already migrated, as a copy of the run's
 * template (PostgreSQL copies its files: much faster than migrating anew).
 * For tests that need their own database but not an empty one.
 */
export async function createMigratedDatabase(services: TestServices): Promise<string> {
  if (!services.databaseUrl || !services.templateDatabase) throw new Error('createMigratedDatabase needs PostgreSQL');
  const name = `${services.templateDatabase.replace(/_template$/, '')}_${Math.floor(Math.random() * 1e6)}`;
  return createDatabase(services.databaseUrl, name, services.templateDatabase);
}

/** Creates the run's template database and migrates it (then closes it: a template must have no connections). */
async function createTemplateDatabase(baseUrl: string): Promise<string> {
  const name = `roomcast_test_${Date.now()}_${process.pid}_${Math.floor(Math.random() * 1e6)}_template`;
  const database = openDatabase({ url: await createDatabase(baseUrl, name), dataDir: null, poolSize: 2 });
  try {
    await migrateToLatest(database);
  } finally {
    await database.close();
  }
  return name;
}

/** Drops the test databases of runs that are over (their names carry a past timestamp). */
async function dropOldTestDatabases(baseUrl: string): Promise<void> {
  const { rows } = await withClient(baseUrl, (admin) => admin.query<{ datname: string }>("select datname from pg_database where datname like 'roomcast\\_test\\_%'"));
  const hourAgo = Date.now() - 3_600_000;
  for (const { datname } of rows) {
    const started = Number(datname.split('_')[2]);
    if (started && started < hourAgo) await dropDatabase(baseUrl, datname).catch(() => {});
  }
}

export async function findServices(): Promise<TestServices> {
  const started: Stoppable[] = [];
  const notes: string[] = [];
  let databaseUrl: string | null = null;
  let templateDatabase: string | null = null;
  let redisUrl: string | null = null;

  // The run's database is a copy of its migrated template, which stays for createMigratedDatabase.
  if (process.env.DATABASE_URL) {
    await dropOldTestDatabases(process.env.DATABASE_URL).catch(() => {});
    templateDatabase = await createTemplateDatabase(process.env.DATABASE_URL);
    databaseUrl = await createMigratedDatabase({ databaseUrl: process.env.DATABASE_URL, templateDatabase } as TestServices);
    notes.push('PostgreSQL from DATABASE_URL');
  } else if (await hasDocker()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    started.push(container);
    templateDatabase = await createTemplateDatabase(container.getConnectionUri());
    databaseUrl = await createMigratedDatabase({ databaseUrl: container.getConnectionUri(), templateDatabase } as TestServices);
    notes.push('PostgreSQL from testcontainers');
  } else {
    notes.push('embedded PGlite (no DATABASE_URL, no Docker)');
  }

  if (process.env.REDIS_URL) {
    redisUrl = process.env.REDIS_URL;
    notes.push('Redis from REDIS_URL');
  } else if (await hasDocker()) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    started.push(container);
    redisUrl = container.getConnectionUrl();
    notes.push('Redis from testcontainers');
  } else {
    notes.push('no Redis: the Redis tests are SKIPPED');
  }

  return {
    databaseUrl,
    templateDatabase,
    redisUrl,
    describe: notes.join('; '),
    stop: async () => {
      await Promise.all(started.map((c) => c.stop()));
    },
  };
}

/** Records a test skipped for a missing service (so CI can refuse a partial run) and says so. */
export function recordSkip(what: string, missing: string): void {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  appendFileSync(SKIPPED_FILE, `${what}: needs ${missing}\n`);
  console.warn(`    SKIPPED (no ${missing}): ${what}`);
}
