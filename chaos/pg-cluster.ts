// A throw-away PostgreSQL cluster for the chaos suite: initdb + pg_ctl from
// the installed PostgreSQL, run as the `postgres` OS user when we are root,
// data in a temp dir, listening on 127.0.0.1:<free port> with trust auth.
// The suite stops and starts it under load, so it must own it.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createDatabase } from '../db/databases.js';
import { freePort } from '../test/support/free-port.js';

const run = promisify(execFile);

export interface PgCluster {
  readonly port: number;
  /** postgres:// URL of the `postgres` database. */
  readonly url: string;
  /** Creates a fresh database (empty, or a copy of `template`) and returns its URL. */
  createDatabase(name: string, template?: string): Promise<string>;
  /** `pg_ctl stop -m fast`: every connection is cut, new ones are refused. */
  stop(): Promise<void>;
  /** Starts it again and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  destroy(): Promise<void>;
}

/** The bin folder of the newest installed PostgreSQL, or null. */
export function findPgBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

interface PgUser {
  uid: number;
  gid: number;
}

async function postgresUser(): Promise<PgUser | null> {
  if (userInfo().uid !== 0) return null; // not root: run as ourselves
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

/** Runs a PostgreSQL binary, as `postgres` when we are root (initdb refuses root). */
async function pgRun(asUser: PgUser | null, bin: string, args: string[], timeoutMs = 60_000): Promise<void> {
  const command = asUser ? 'runuser' : bin;
  const argv = asUser ? ['-u', 'postgres', '--', bin, ...args] : args;
  await run(command, argv, { timeout: timeoutMs, cwd: tmpdir() });
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = findPgBin();
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const asUser = await postgresUser();
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-chaos-pg-'));
  const data = path.join(dir, 'data');
  if (asUser) chownSync(dir, asUser.uid, asUser.gid);
  chmodSync(dir, 0o700);
  const port = await freePort();
  await pgRun(asUser, path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], 120_000);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const start = async () => {
    await pgRun(asUser, path.join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    await waitForConnect(url, 30_000);
  };
  const stop = () => pgRun(asUser, path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  await start();

  let running = true;
  return {
    port,
    url,
    createDatabase: (name, template) => createDatabase(url, name, template),
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => {});
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForConnect(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
