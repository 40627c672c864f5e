import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { createApp, type RoomcastApp } from '../server/app.js';
import { openDatabase } from '../db/database.js';
import type { Message, MessageResult } from '../server/protocol.js';
import { deleteRedisKeys } from './support/redis-keys.js';
import { createFreshDatabase, recordSkip } from './support/services.js';
import { environment } from './support/environment.js';
import { startNodeProcess, stopChildren } from './support/processes.js';
import { closeAll, connect, createRoom, http, nextEvent, ok, registerUser, testConfig, testLogger } from './support/util.js';

describe('nodes as separate OS processes', () => {
  let databaseUrl: string;
  let redisUrl: string;

  before(async function () {
    const { services } = environment.get();
    if (!services.redisUrl || !services.databaseUrl) {
      recordSkip('cluster tests with node processes', services.redisUrl ? 'PostgreSQL' : 'Redis');
      this.skip();
    }
    redisUrl = services.redisUrl;
    databaseUrl = await createFreshDatabase(services.databaseUrl);
  });
  const prefix = `roomcast-test-${randomUUID().slice(0, 8)}`;
  after(async () => {
    await stopChildren();
    if (redisUrl) await deleteRedisKeys(redisUrl, prefix);
  });

  it('when two node processes share an empty database and Redis, then both migrate safely, come up, and a message crosses them', async function () {
    this.timeout(60_000);
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix };
    const [a, b] = await Promise.all([startNodeProcess('node-proc-a', env), startNodeProcess('node-proc-b', env)]);
    const alice = await registerUser(a.url);
    const bob = await registerUser(b.url);
    const room = await createRoom(a.url, alice.accessToken);
    const aliceSocket = await connect(a.url, { token: alice.accessToken });
    const bobSocket = await connect(b.url, { token: bob.accessToken });
    await ok(aliceSocket, 'room:join', { roomId: room.id });
    await ok(bobSocket, 'room:join', { roomId: room.id });
    const received = nextEvent<Message>(bobSocket, 'message:new');

    const ack = await ok<MessageResult>(aliceSocket, 'message:send', { roomId: room.id, content: 'from another process', clientMsgId: randomUUID() });

    expect(await received).to.deep.equal(ack.message);
    aliceSocket.disconnect();
    bobSocket.disconnect();
    // SIGTERM: each node drains and exits 0.
    await Promise.all([a.child.stop('SIGTERM'), b.child.stop('SIGTERM')]);
    expect(a.child.exited()).to.deep.equal({ code: 0, signal: null });
    expect(b.child.exited()).to.deep.equal({ code: 0, signal: null });
  });
});

describe('migrations at start-up', () => {
  let baseUrl: string;

  before(function () {
    const { services } = environment.get();
    if (!services.databaseUrl) {
      recordSkip('migrations of nodes started at once', 'PostgreSQL');
      this.skip();
    }
    baseUrl = services.databaseUrl;
  });
  afterEach(closeAll);

  it('when three nodes start at once against an empty database, then the migrations run exactly once and every node comes up', async function () {
    this.timeout(60_000);
    const databaseUrl = await createFreshDatabase(baseUrl);
    const apps: RoomcastApp[] = [];
    try {
      // No shared database option: each node opens its own pool and migrates at start.
      const started = await Promise.all(
        ['m1', 'm2', 'm3'].map(async (id) => {
          const app = await createApp(testConfig({ DATABASE_URL: databaseUrl, NODE_ID: id }), { logger: testLogger() });
          apps.push(app);
          await app.listen();
          return app;
        }),
      );

      for (const app of started) expect((await http(app, 'GET', '/readyz')).status).to.equal(200);
      const migrationFiles = readdirSync('db/migrations').filter((f) => f.endsWith('.ts'));
      const check = openDatabase({ url: databaseUrl, dataDir: null, poolSize: 1 });
      try {
        const rows: { name: string }[] = await check.knex('knex_migrations').select('name');
        expect(rows.map((r) => r.name).sort()).to.deep.equal(migrationFiles.sort());
      } finally {
        await check.close();
      }
      const registered = await registerUser(started[2]!);
      expect(registered.user.username).to.be.a('string');
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  });
});
