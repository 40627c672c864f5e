import { expect } from 'chai';
import { createApp, type RoomcastApp } from '../server/app.js';
import type { AuditPage, UsersPage } from '../server/protocol.js';
import { login } from './support/admin.js';
import { useRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { runNode, useTempDir, type NodeRun } from './support/node-run.js';
import { recordSkip } from './support/services.js';
import { connect, http, issuedSecrets, nextEvent, registerUser, startNode, stopNode, testConfig, testLogger, uniqueName } from './support/util.js';

/**
 * `npm run admin` as a child process. With a real PostgreSQL it runs against
 * this test run's database; with the embedded one (which one process holds
 * at a time) against a temporary DATA_DIR that a node opens afterwards.
 */
describe('admin CLI (npm run admin)', function () {
  // Each CLI run is a fresh node process (tsx, migrations): seconds each, more on a busy machine.
  this.timeout(150_000);
  const dataDir = useTempDir('roomcast-cli-');

  /** The CLI without Redis, unless `extraEnv` gives it one. */
  function cliWith(extraEnv: Record<string, string>, ...args: string[]): Promise<NodeRun> {
    const { databaseUrl } = environment.get().services;
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', DATA_DIR: dataDir.path, DATABASE_URL: databaseUrl ?? '' };
    delete env.REDIS_URL;
    Object.assign(env, extraEnv);
    return runNode(['--import', 'tsx', 'scripts/admin-cli.ts', ...args], env, 120_000);
  }
  const cli = (...args: string[]) => cliWith({}, ...args);

  /** A node on the database the CLI wrote to (started after the CLI exited, for the embedded one). */
  async function withNode<T>(use: (app: RoomcastApp) => Promise<T>): Promise<T> {
    if (environment.get().services.databaseUrl) {
      const app = await startNode();
      try {
        return await use(app);
      } finally {
        await stopNode(app);
      }
    }
    const app = await createApp(testConfig({ DATABASE_URL: '', DATA_DIR: dataDir.path }), { logger: testLogger() });
    await app.listen();
    try {
      return await use(app);
    } finally {
      await app.close();
    }
  }

  it('create-user, promote, demote and ban change the account as the server then sees it, and each is audited', async () => {
    const owner = uniqueName('owner');
    const bob = uniqueName('bob');
    const password = 'correct-horse-battery';

    const created = [await cli('create-user', owner, `${owner}@example.test`, password, '--admin'), await cli('create-user', bob, `${bob}@example.test`, password)];
    const promoted = await cli('promote', bob);
    const demoted = await cli('demote', bob);
    const banned = await cli('ban', bob);

    expect(created.map((r) => r.code)).to.deep.equal([0, 0]);
    expect(created[0]!.stdout).to.match(new RegExp(`created ${owner} \\(admin, id `));
    expect(created[1]!.stdout).to.match(new RegExp(`created ${bob} \\(member, id `));
    expect(promoted).to.include({ code: 0 });
    expect(promoted.stdout).to.contain(`${bob} is now an admin`);
    expect(demoted).to.include({ code: 0 });
    expect(banned).to.include({ code: 0 });
    expect(banned.stdout).to.contain(`${bob} is banned`).and.contain('their open sockets end when their access token expires');
    await withNode(async (app) => {
      const ownerSession = await login(app, owner, password);
      expect(ownerSession.body.user.role).to.equal('admin');
      const bobLogin = await login(app, bob, password);
      expect(bobLogin.status).to.equal(403);
      expect(bobLogin.body.error?.code).to.equal('banned');
      const users = await http<UsersPage>(app, 'GET', `/api/admin/users?q=${bob}`, { token: ownerSession.body.accessToken });
      expect(users.body.users[0]).to.include({ username: bob, role: 'member', banned: true });
      const audit = await http<AuditPage>(app, 'GET', '/api/admin/audit?limit=200', { token: ownerSession.body.accessToken });
      const bobId = users.body.users[0]!.id;
      const entries = audit.body.entries.filter((e) => e.targetId === bobId);
      expect(entries.map((e) => [e.action, e.actorId, e.details])).to.deep.equal([
        ['ban', null, { until: null, via: 'cli' }],
        ['role_change', null, { from: 'admin', to: 'member', via: 'cli' }],
        ['role_change', null, { from: 'member', to: 'admin', via: 'cli' }],
      ]);
    });
  });

  it('answers usage (exit 2) for a missing or unknown command, and a one-line failure (exit 1) for an unknown user or bad input', async () => {
    const [none, unknown] = await Promise.all([cli(), cli('frobnicate')]);
    const missingUser = await cli('promote', uniqueName('nobody'));
    const badEmail = await cli('create-user', uniqueName('x'), 'not-an-email', 'long-enough-password');

    expect(none.code).to.equal(2);
    expect(none.stdout).to.contain('Usage: npm run admin -- <command>');
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('unknown command "frobnicate"');
    expect(missingUser.code).to.equal(1);
    expect(missingUser.stderr).to.match(/^admin: no user named "nobody/);
    expect(badEmail.code).to.equal(1);
    expect(badEmail.stderr).to.match(/^admin: invalid email/);
  });

  it('api-key create prints a key the server API takes, api-key list shows it without the key, api-key revoke ends it; each is audited as the CLI\'s', async () => {
    const name = uniqueName('cli-key');

    const created = await cli('api-key', 'create', name, 'history,presence');
    const keyLine = created.stdout.split('\n').find((line) => line.startsWith('rck_'));
    const id = /id ([0-9a-f-]{36})/.exec(created.stdout)?.[1];
    if (keyLine) issuedSecrets.add(keyLine);
    const listed = await cli('api-key', 'list');
    const badScope = await cli('api-key', 'create', name, 'history,everything');

    expect(created.code, created.stderr).to.equal(0);
    expect(keyLine).to.match(/^rck_[A-Za-z0-9_-]{43}$/);
    expect(listed.code).to.equal(0);
    expect(listed.stdout).to.contain(`${id}  ${name}  history,presence`);
    expect(listed.stdout).not.to.contain(keyLine!);
    expect(badScope.code).to.equal(1);
    expect(badScope.stderr).to.match(/^admin: invalid scopes/);
    const usable = async () =>
      withNode(async (app) => {
        const room = await registerUser(app).then((user) => http<{ room: { id: string } }>(app, 'POST', '/api/rooms', { token: user.accessToken, body: { name: uniqueName('room') } }));
        return (await http(app, 'GET', `/api/server/rooms/${room.body.room.id}/messages`, { token: keyLine! })).status;
      });
    expect(await usable()).to.equal(200);

    const revoked = await cli('api-key', 'revoke', id!);
    const again = await cli('api-key', 'revoke', id!);

    expect(revoked.code, revoked.stderr).to.equal(0);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('no API key with id');
    expect(await usable()).to.equal(401);
    if (environment.get().services.databaseUrl) {
      const audit = await environment.get().database.knex('audit_log').where({ target_type: 'api_key', target_id: id! }).orderBy('id');
      expect(audit.map((row: { action: string; actor_id: string | null; details: { via?: string } }) => [row.action, row.actor_id, row.details.via])).to.deep.equal([
        ['api_key_create', null, 'cli'],
        ['api_key_revoke', null, 'cli'],
      ]);
    }
  });

  describe('with REDIS_URL, next to a running cluster', () => {
    const cluster = useRedisCluster('admin CLI ending sessions');

    before(function () {
      // The embedded database is held by one process: the CLI could not open it next to a node.
      if (!environment.get().services.databaseUrl) {
        recordSkip('admin CLI ending sessions', 'PostgreSQL');
        this.skip();
      }
    });

    it('when ban runs, then the user\'s open sockets get session:revoked banned and are disconnected at once, and the ban is audited as the CLI\'s', async () => {
      const app = await cluster.node('cli');
      const carol = await registerUser(app);
      const socket = await connect(app, { token: carol.accessToken });
      // Listening before the CLI starts: the event may come while it is still exiting.
      const revoked = nextEvent<{ reason: string }>(socket, 'session:revoked', 90_000);
      const disconnected = nextEvent<string>(socket, 'disconnect', 90_000);

      const banned = await cliWith({ REDIS_URL: environment.get().services.redisUrl!, REDIS_KEY_PREFIX: app.config.redisKeyPrefix }, 'ban', carol.user.username);

      expect(banned, banned.stderr).to.include({ code: 0 });
      expect(banned.stdout).to.contain(`${carol.user.username} is banned`).and.contain('their open sessions were ended on every node');
      expect(await revoked).to.deep.equal({ reason: 'banned' });
      expect(await disconnected).to.equal('io server disconnect');
      const rows = await environment.get().database.knex('audit_log').where({ target_id: carol.user.id }).select('action', 'actor_id', 'details');
      expect(rows).to.deep.equal([{ action: 'ban', actor_id: null, details: { until: null, via: 'cli' } }]);
      const tokens = await environment.get().database.knex('refresh_tokens').where({ user_id: carol.user.id }).whereNull('revoked_at');
      expect(tokens, 'every refresh token of the user is revoked').to.have.length(0);
    });

    it('when Redis does not answer at REDIS_URL, then the CLI changes nothing and fails with one line (exit 1)', async () => {
      const app = await cluster.node('cli');
      const dave = await registerUser(app);

      const result = await cliWith({ REDIS_URL: 'redis://127.0.0.1:1' }, 'ban', dave.user.username);

      expect(result.code, result.stderr).to.equal(1);
      expect(result.stderr).to.match(/^admin: cannot reach Redis at REDIS_URL .*nothing was changed/);
      const user = await environment.get().database.knex('users').where({ id: dave.user.id }).first('banned');
      expect(user.banned).to.equal(false);
    });
  });
});
