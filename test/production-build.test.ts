// The compiled build as production runs it, without Docker: `npm run build`
// into a scratch folder laid out like the image's /app (package.json,
// node_modules holding the production dependencies only, dist/), then the
// Dockerfile's own CMD there — plain node, no TypeScript loader, no bundler —
// against a fresh database: /healthz, a registration, a socket send answered
// by its ack, the web page with the prebuilt bundle, no esbuild process
// under the node, and a clean SIGTERM exit.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { dropDatabase } from '../db/databases.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Message } from '../client-sdk/src/protocol.js';
import { environment } from './support/environment.js';
import { freePort } from './support/free-port.js';
import { answers200, startChild, stopChildren, TEST_JWT_SECRET, waitUntil } from './support/processes.js';
import { createFreshDatabase } from './support/services.js';
import { closeAll, connect, createRoom, ok, registerUser } from './support/util.js';

const run = promisify(execFile);
const ROOT = path.resolve('.');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  link?: boolean;
}

/**
 * What `npm ci --omit=dev` installs, as links into this checkout's
 * node_modules: every top-level package the lockfile does not mark dev-only
 * (nested ones come with their parent). A compiled module that imported tsx,
 * esbuild or TypeScript would fail to load here.
 */
async function linkProductionDependencies(app: string): Promise<void> {
  const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || key.indexOf('/node_modules/') !== -1 || entry.dev || entry.devOptional || entry.link) continue;
    const installed = path.join(ROOT, key);
    if (!existsSync(installed)) continue; // an optional package of another platform
    await mkdir(path.dirname(path.join(app, key)), { recursive: true });
    await symlink(installed, path.join(app, key), 'dir');
  }
}

/** The Dockerfile's runtime CMD (exec form) and the folders its runtime stage copies from the build stage. */
async function dockerfileRuntime(): Promise<{ cmd: string[]; copiedFromBuild: string[] }> {
  const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const cmd = /^CMD (\[.*\])$/m.exec(runtime);
  expect(cmd, 'the runtime stage has an exec-form CMD').to.not.equal(null);
  const copiedFromBuild = [...runtime.matchAll(/^COPY --from=\S+ (\S+) /gm)].map((m) => m[1]!);
  return { cmd: JSON.parse(cmd![1]!) as string[], copiedFromBuild };
}

/** The command lines of every process descended from `pid` (Linux /proc), or null where there is no /proc. */
async function descendants(pid: number): Promise<string[] | null> {
  if (!existsSync('/proc/self/stat')) return null;
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const found: string[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      queue.push(child);
      found.push((await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' '));
    }
  }
  return found;
}

describe('production build (npm run build, then node dist/server/main.js)', function () {
  this.timeout(240_000);
  let scratch: string;
  let server: string | null = null;
  let databaseUrl: string | null = null;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'roomcast-production-build-'));
    // PostgreSQL when the run has it; else the compiled node keeps PGlite in its DATA_DIR.
    server = environment.get().services.databaseUrl;
    if (server) databaseUrl = await createFreshDatabase(server);
  });
  after(async () => {
    await closeAll();
    await stopChildren();
    if (server && databaseUrl) await dropDatabase(server, new URL(databaseUrl).pathname.slice(1)).catch(() => {});
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('when built and started with plain node and production dependencies only, then it migrates, answers /healthz, a send and the web page, and starts no esbuild', async () => {
    const { cmd, copiedFromBuild } = await dockerfileRuntime();
    expect(cmd[0], 'the image runs node itself').to.equal('node');
    expect(cmd.slice(1).join(' '), 'no TypeScript loader').to.not.match(/tsx|--import|--loader|\.ts\b/);
    expect(copiedFromBuild, 'the runtime stage takes the build output only').to.deep.equal(['/app/dist']);

    await run(NPM, ['run', 'build', '--', '--out-dir', path.join(scratch, 'dist')], { cwd: ROOT, timeout: 180_000 });
    await writeFile(path.join(scratch, 'package.json'), await readFile(path.join(ROOT, 'package.json')));
    await linkProductionDependencies(scratch);
    for (const tool of ['tsx', 'esbuild', 'typescript']) expect(existsSync(path.join(scratch, 'node_modules', tool)), `${tool} is a dev dependency`).to.equal(false);
    expect((await readdir(path.join(scratch, 'dist/db/migrations'))).some((f) => f.endsWith('.ts')), 'no TypeScript in the build').to.equal(false);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const node = startChild(
      'production-build',
      process.execPath,
      cmd.slice(1),
      {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'info',
        NODE_ID: 'production-build',
        DATA_DIR: path.join(scratch, 'data'),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      },
      scratch,
    );
    await waitUntil('the compiled node to be ready', () => answers200(`${url}/readyz`), 30_000, node);
    expect(await answers200(`${url}/healthz`)).to.equal(true);

    // Registration hashes in the password pool's worker (a compiled .js file), the send goes through the message writer.
    const user = await registerUser(url);
    const room = await createRoom(url, user.accessToken);
    const socket = await connect(url, { token: user.accessToken });
    await ok(socket, 'room:join', { roomId: room.id });
    const sent = await ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'from the compiled build', clientMsgId: randomUUID() });
    expect(sent.message).to.include({ seq: 1, content: 'from the compiled build' });

    const page = await fetch(`${url}/`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.match(/<script[^>]+src="\/assets\/app\.js"/);
    const bundle = await fetch(`${url}/assets/app.js`);
    expect(bundle.status).to.equal(200);
    expect(Buffer.from(await bundle.arrayBuffer()).equals(await readFile(path.join(scratch, 'dist/web/assets/app.js'))), 'the bundle `npm run build` wrote').to.equal(true);

    const processes = await descendants(node.process.pid!);
    if (processes) {
      // The detector finds an esbuild service where one runs: this test process's own.
      const { transform } = await import('esbuild');
      await transform('let detector = 1');
      expect((await descendants(process.pid))!.some((line) => line.includes('esbuild')), 'control: esbuild under this process').to.equal(true);
      expect(processes.filter((line) => line.includes('esbuild')), 'esbuild processes under the compiled node').to.deep.equal([]);
    }

    // The compiled migrations recorded their source names: the sources (tsx) find nothing missing and nothing to do.
    if (databaseUrl) {
      const sources = openDatabase({ url: databaseUrl, dataDir: null, poolSize: 2 }); // one holds the migration lock
      try {
        await migrateToLatest(sources);
        const rows: { name: string }[] = await sources.knex('knex_migrations').select('name');
        const migrationFiles = (await readdir(path.join(ROOT, 'db/migrations'))).filter((f) => f.endsWith('.ts'));
        expect(rows.map((r) => r.name).sort()).to.deep.equal(migrationFiles.sort());
      } finally {
        await sources.close();
      }
    }

    socket.disconnect();
    await node.stop('SIGTERM', 15_000);
    expect(node.exited(), 'SIGTERM drains and exits 0').to.deep.equal({ code: 0, signal: null });
  });
});
