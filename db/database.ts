import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import knex, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';

export type { Knex };

const INT8_OID = 20;

// Message ids are BIGSERIAL and travel as decimal strings; pg already returns
// int8 as a string, and PGlite is told to do the same below.
pg.types.setTypeParser(INT8_OID, (value: string) => value);

export interface DatabaseOptions {
  /** A postgres:// URL, or null for the embedded PGlite. */
  url: string | null;
  /** PGlite's folder; null keeps the embedded database in memory. */
  dataDir: string | null;
  /** Connections for a real PostgreSQL. */
  poolSize?: number;
}

export interface Database {
  readonly knex: Knex;
  readonly kind: 'postgres' | 'pglite';
  /** Resolves once the database answers a trivial query (the readiness check); rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const pingOf = (instance: Knex) => async (): Promise<void> => void (await instance.raw('select 1'));

/** Opens PostgreSQL through knex, or the embedded PGlite when no URL is given. */
export function openDatabase(options: DatabaseOptions): Database {
  return options.url ? openPostgres(options.url, options.poolSize ?? 10) : openPglite(options.dataDir);
}

function openPostgres(url: string, poolSize: number): Database {
  const instance = knex({
    client: 'pg',
    connection: {
      connectionString: url,
      // A database that stops answering must not freeze senders: fail fast.
      connectionTimeoutMillis: 5_000,
      query_timeout: 10_000,
      keepAlive: true,
    },
    pool: { min: 0, max: poolSize, idleTimeoutMillis: 30_000, afterCreate: tuneSession },
    acquireConnectionTimeout: 5_000,
  });
  return { knex: instance, kind: 'postgres', ping: pingOf(instance), close: () => instance.destroy() };
}

/**
 * Session settings for short OLTP statements. The group-commit statement is
 * a named statement (planned once per connection); PostgreSQL would still
 * plan it anew for every execution when its estimates favour custom plans,
 * and that planning cost more than running a small batch (~0.5 ms of CPU).
 * JIT compilation, which costs tens of ms, pays off only for long analytic
 * queries, and the planner's estimates for unnest()-fed batches crossed its
 * threshold at some batch sizes. Set per session (not as startup options) so
 * poolers that refuse startup parameters still accept the connection.
 */
function tuneSession(connection: pg.Client, done: (err: Error | null, connection: pg.Client) => void): void {
  connection.query('set jit = off; set plan_cache_mode = force_generic_plan', (err) => done(err, connection));
}

const pgliteBase = ClientPgLite.prototype as unknown as { processResponse(obj: unknown, runner: unknown): unknown };

/**
 * knex-pglite turns `.del()` into the command "DEL", which knex's pg dialect
 * does not know: a delete then answered the raw result instead of the row
 * count it answers on PostgreSQL. Calling it "delete" fixes that.
 */
class PgliteClient extends ClientPgLite {
  processResponse(obj: { method?: string }, runner: unknown): unknown {
    return pgliteBase.processResponse.call(this, obj.method === 'del' ? { ...obj, method: 'delete' } : obj, runner);
  }
}

function openPglite(dataDir: string | null): Database {
  const releaseLock = dataDir ? lockDataDir(dataDir) : () => {};
  // ONE PGlite instance, handed to knex: a second one on the same folder corrupts it.
  // Options go in one object: `new PGlite(undefined, options)` ignores the
  // options, and in-memory databases then answered int8 ids as numbers.
  const pglite = new PGlite({
    dataDir: dataDir ? path.join(dataDir, 'pglite') : undefined,
    parsers: { [INT8_OID]: (value: string) => value },
  });
  const instance = knex({
    client: PgliteClient as unknown as typeof knex.Client,
    connection: () => ({ pglite }) as unknown as Knex.StaticConnectionConfig,
  });
  return {
    knex: instance,
    kind: 'pglite',
    ping: pingOf(instance),
    close: async () => {
      await instance.destroy();
      if (!pglite.closed) await pglite.close();
      releaseLock();
    },
  };
}

/**
 * PGlite cannot be shared between processes. A pid file in DATA_DIR refuses a
 * second process while the first is alive, and is taken over when it is stale.
 * (Hand-written: the lock libraries judge staleness by mtime, not by the pid.)
 */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'roomcast.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new Error(`${dataDir} is in use by process ${owner}; the embedded database takes one process`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
