// Target mode of the chaos suite (`npm run chaos -- --target URL`) against a
// real node started as a separate OS process, as an operator would run it
// against staging: only the node's URL and admin credentials are given.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { openDatabase } from '../db/database.js';
import type { ChaosReport } from '../chaos/runner.js';
import { QUICK } from '../chaos/runner.js';
import { restProblem } from '../chaos/fuzz-rest.js';
import { ackProblem } from '../chaos/fuzz-events.js';
import { signInAdmin, skippedInTargetMode, trafficRow } from '../chaos/target.js';
import { leakProblem, made, useRunTag, type Registered } from '../chaos/wire.js';
import { runNode } from './support/node-run.js';
import { environment } from './support/environment.js';
import { startNodeProcess, stopChildren, type NodeProcess } from './support/processes.js';
import { deleteRedisKeys } from './support/redis-keys.js';
import { PRODUCTION_BCRYPT_COST } from './support/test-limits.js';
import { createMigratedDatabase, recordSkip } from './support/services.js';
import { registerUser, uniqueName } from './support/util.js';

describe('chaos suite against a deployment (npm run chaos -- --target URL)', () => {
  let databaseUrl: string;
  let redisUrl: string;
  let node: NodeProcess;
  const prefix = `roomcast-test-${randomUUID().slice(0, 8)}`;
  const adminName = uniqueName('ops');
  let adminPassword: string;
  /** Signed in before the runs: a run spends this address's login failures, so logins answer 429 after it. */
  let operator: Registered;

  before(async function () {
    this.timeout(60_000);
    const { services } = environment.get();
    if (!services.redisUrl || !services.databaseUrl) {
      recordSkip('chaos target mode', services.redisUrl ? 'PostgreSQL' : 'Redis');
      this.skip();
    }
    redisUrl = services.redisUrl;
    databaseUrl = await createMigratedDatabase(services);
    // The deployment's bcrypt cost: the run's enumeration timing compares bcrypt work.
    node = await startNodeProcess('chaos-target-node', { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn', ...PRODUCTION_BCRYPT_COST });
    // The first user of a fresh database is its admin: the operator's account.
    const admin = await registerUser(node.url, adminName);
    expect(admin.user.role).to.equal('admin');
    adminPassword = admin.password;
    operator = await signInAdmin(node.url, adminName, adminPassword);
  });
  after(async function () {
    this.timeout(30_000);
    await stopChildren();
    if (redisUrl) await deleteRedisKeys(redisUrl, prefix);
  });

  it('when target mode runs against a node process with small counts, then every row passes, the process-killing rows are listed as skipped, and its users and rooms are tidied', async function () {
    this.timeout(300_000);
    const run = await runNode(
      ['--import', 'tsx', 'chaos/main.ts', '--quick', '--target', node.url, '--fuzz-events', '200', '--fuzz-rest', '200'],
      { ...process.env, CHAOS_ADMIN_USER: adminName, CHAOS_ADMIN_PASSWORD: adminPassword },
      280_000,
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(0);
    const file = /^JSON: (.+)$/m.exec(run.stdout)?.[1];
    expect(file, run.stdout).to.be.a('string');
    const report = JSON.parse(readFileSync(file!, 'utf8')) as ChaosReport;

    expect(report.target).to.equal(node.url);
    for (const row of [...report.faults, ...report.attacks]) expect(row.violations, `${'fault' in row ? row.fault : row.attack}: ${row.violations.join('\n')}`).to.deep.equal([]);
    const [traffic] = report.faults;
    expect(traffic!.acked).to.be.above(0);
    expect([traffic!.lost, traffic!.duplicated, traffic!.unresolved, traffic!.divergent]).to.deep.equal([0, 0, 0, 0]);
    expect(traffic!.stored).to.equal(traffic!.acked);
    const runsOf = (prefix: string) => report.attacks.find((r) => r.attack.startsWith(prefix))?.runs;
    expect(runsOf('fuzz: every /chat')).to.equal(200);
    expect(runsOf('fuzz: every REST')).to.equal(200);
    expect(runsOf('login enumeration')).to.be.above(0);
    expect(report.skipped.map((s) => s.row)).to.include.members(['kill-9', 'sigterm', 'postgres-restart', 'redis-outage', 'rolling-restart', 'slow-consumer']);

    const alive = report.attacks.find((r) => r.attack === 'the attacked node afterwards')!;
    expect(alive.facts).to.include({ healthz: 200, readyz: 200, notTidied: 0 });
    expect(alive.facts.roomsArchived).to.be.above(0);
    // Every user the run registered carries its tag and is banned now; the operator's admin is untouched.
    const users = (await (await fetch(`${node.url}/api/admin/users?q=${encodeURIComponent(String(alive.facts.tag))}&limit=100`, { headers: { authorization: `Bearer ${operator.token}` } })).json()) as { users: Array<{ username: string; banned: boolean }> };
    expect(users.users.length).to.be.above(2);
    expect(users.users.filter((u) => !u.banned).map((u) => u.username)).to.deep.equal([]);
  });

  it('when an acked message vanishes from the history before the check (planted), then the traffic row reports it lost and the history gapped', async function () {
    this.timeout(60_000);
    const database = openDatabase({ url: databaseUrl, dataDir: null, poolSize: 1 });
    useRunTag(`pl${randomUUID().slice(0, 4)}_`);
    try {
      const row = await trafficRow(node.url, operator, { clients: 2, durationMs: 800, intervalMs: 40 }, async (roomId) => {
        const deleted = await database.knex('messages').where({ room_id: roomId, seq: 2 }).delete();
        expect(deleted).to.equal(1);
      });
      expect(row.lost).to.equal(1);
      expect(row.divergent).to.equal(2); // both clients saw the message the history no longer has
      expect(row.violations.join('\n')).to.match(/is not stored as acked/).and.to.match(/a gap or repeat/);
    } finally {
      await database.close();
      made.roomIds.clear();
    }
  });

  it('when an answer leaks a stack trace, a source path or SQL, or is a 5xx, then the fuzz names it; clean answers pass', () => {
    expect(leakProblem('{"error":{"code":"internal","message":"x"}}')).to.equal(null);
    expect(leakProblem('Error: boom\n    at handler (/app/server/http/x.ts:10:5)')).to.match(/stack trace/);
    expect(leakProblem('{"message":"insert into \\"users\\" (username) values ($1) - duplicate"}')).to.match(/SQL/);
    expect(leakProblem('invalid byte sequence for encoding "UTF8": 0x00')).to.match(/database error/);
    expect(restProblem('POST', '/api/auth/login', 500, '{"error":{"code":"internal","message":"x"}}', { error: { code: 'internal', message: 'x' } })).to.match(/answered 500/);
    expect(restProblem('GET', '/readyz', 503, '{}', {})).to.equal(null);
    expect(restProblem('GET', '/api/rooms/xxxx', 431, '', '')).to.equal(null); // Node's parser refused the long path
    expect(restProblem('GET', '/api/rooms', 302, '', '')).to.match(/answered 302/);
    expect(restProblem('GET', '/api/me', 400, 'Bad', 'Bad')).to.match(/without the Error shape/);
    expect(restProblem('GET', '/api/me', 401, '{"error":{"code":"unauthorized","message":"x"}}', { error: { code: 'unauthorized', message: 'x' } })).to.equal(null);
    // An event the namespace does not have must answer validation_failed, nothing else.
    expect(ackProblem('no:such', { ok: false, error: { code: 'validation_failed', message: 'x' } }, false)).to.equal(null);
    expect(ackProblem('no:such', { ok: true }, false)).to.match(/unknown event/);
    expect(ackProblem('room:join', { ok: false, error: { code: 'not_found', message: 'relation "rooms" does not exist' } })).to.match(/gives away a database error/);
    expect(skippedInTargetMode().map((s) => s.row)).to.include('kill-9');
    expect(QUICK.fuzz.events).to.be.below(1_000); // npm test keeps the quick form small
  });
});
