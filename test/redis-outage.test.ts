import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { JoinResult, Message, MessageResult } from '../server/protocol.js';
import { recordSkip } from './support/services.js';
import { environment } from './support/environment.js';
import { freePort } from './support/free-port.js';
import { answers200, hasCommand, startRedis, stopChildren, waitUntil, type Child } from './support/processes.js';
import { closeAll, collect, connect, createRoom, http, membersInRoom, nextEvent, ok, registerUser, sleep, startNode, stopNode, waitFor } from './support/util.js';

const OUTAGE_MS = 3_000;

describe('a Redis outage', () => {
  let redisPort: number;
  let redis: Child;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async function () {
    // Needs Redis twice over: the run's services say whether Redis tests run
    // at all, and this file starts its own redis-server, which it may stop.
    if (!environment.get().services.redisUrl || !(await hasCommand('redis-server'))) {
      recordSkip('Redis outage test', 'Redis');
      this.skip();
    }
    redisPort = await freePort();
    redis = await startRedis('redis-outage', redisPort);
    process.on('unhandledRejection', onUnhandled);
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await closeAll();
    await stopChildren();
  });

  it('when Redis stops for a few seconds, then no node fails, same-node delivery continues, and cross-node delivery comes back', async function () {
    this.timeout(45_000);
    const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_KEY_PREFIX: `outage-${randomUUID().slice(0, 8)}`, MESSAGE_RATE_LIMIT: '100' };
    const a = await startNode({ ...env, NODE_ID: 'outage-a' });
    const b = await startNode({ ...env, NODE_ID: 'outage-b' });
    const { room, sockets: [aliceSocket, bobASocket, bobBSocket] } = await membersInRoom([a, a, b]);
    const late = await registerUser(a);
    const seenOnA = collect<Message>(bobASocket, 'message:new');
    const seenOnB = collect<Message>(bobBSocket, 'message:new');
    const say = (content: string) => ok<MessageResult>(aliceSocket, 'message:send', { roomId: room.id, content, clientMsgId: randomUUID() });
    await say('before');
    await waitFor(() => seenOnB.length === 1, 5_000, 'cross-node delivery before the outage');

    await redis.stop('SIGTERM');
    const stoppedAt = Date.now();
    await waitUntil('both nodes to report Redis unready', async () => (await http(a, 'GET', '/readyz')).status === 503 && (await http(b, 'GET', '/readyz')).status === 503, 10_000);

    const during = await say('during the outage');
    await waitFor(() => seenOnA.some((m) => m.id === during.message.id), 5_000, 'same-node delivery during the outage');
    const lateSocket = await connect(a, { token: late.accessToken });
    const joined = await ok<JoinResult>(lateSocket, 'room:join', { roomId: room.id });
    expect(joined.room.id).to.equal(room.id);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt)));

    redis = await startRedis('redis-outage', redisPort);
    await waitUntil('both nodes to be ready again', async () => (await answers200(`${a.url()}/readyz`)) && answers200(`${b.url()}/readyz`), 15_000);
    // Fan-out resumes by itself: keep saying something until B hears one (bounded).
    let last = during.message.seq;
    for (let attempt = 0; attempt < 20 && !seenOnB.some((m) => m.seq > during.message.seq); attempt++) {
      const heard = nextEvent<Message>(bobBSocket, 'message:new', 1_000).catch(() => null);
      last = (await say(`after ${attempt}`)).message.seq;
      await heard;
    }

    await waitFor(() => seenOnB.at(-1)?.seq === last && seenOnA.at(-1)?.seq === last, 10_000, 'both receivers to catch up');
    const all = Array.from({ length: last }, (_, i) => i + 1);
    expect(seenOnA.map((m) => m.seq)).to.deep.equal(all);
    // B missed live fan-out during the outage; the gap was filled from PostgreSQL, in order.
    expect(seenOnB.map((m) => m.seq)).to.deep.equal(all);
    for (const app of [a, b] as RoomcastApp[]) expect((await http(app, 'GET', '/healthz')).status).to.equal(200);
    expect(unhandled).to.deep.equal([]);
  });

  it('when Redis hangs without closing connections, then sends and joins still answer', async function () {
    this.timeout(30_000);
    const app = await startNode({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_KEY_PREFIX: `outage-${randomUUID().slice(0, 8)}`, NODE_ID: 'outage-hang' });
    const [user, other] = await Promise.all([registerUser(app), registerUser(app)]);
    const room = await createRoom(app, user.accessToken);
    const socket = await connect(app, { token: user.accessToken });
    const otherSocket = await connect(app, { token: other.accessToken });
    await ok(socket, 'room:join', { roomId: room.id });

    redis.process.kill('SIGSTOP');
    try {
      const joined = await ok<JoinResult>(otherSocket, 'room:join', { roomId: room.id });
      const heard = nextEvent<Message>(otherSocket, 'message:new');
      const sent = await ok<MessageResult>(socket, 'message:send', { roomId: room.id, content: 'while Redis hangs', clientMsgId: randomUUID() });

      expect(joined.room.id).to.equal(room.id);
      expect(await heard).to.deep.equal(sent.message);
    } finally {
      redis.process.kill('SIGCONT');
    }
    await stopNode(app);
    expect(unhandled).to.deep.equal([]);
  });

  it('when Redis is down, then a node still shuts down gracefully and promptly', async function () {
    this.timeout(20_000);
    const app = await startNode({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_KEY_PREFIX: `outage-${randomUUID().slice(0, 8)}`, NODE_ID: 'outage-close' });
    const { room, sockets: [socket] } = await membersInRoom([app]);
    await ok<MessageResult>(socket, 'message:send', { roomId: room.id, content: 'queued fan-out', clientMsgId: randomUUID() });
    await redis.stop('SIGTERM');
    await waitUntil('the node to report Redis unready', async () => (await http(app, 'GET', '/readyz')).status === 503, 10_000);
    // A publish while Redis is away sits in the adapter's offline queue.
    await ok<MessageResult>(socket, 'message:send', { roomId: room.id, content: 'during', clientMsgId: randomUUID() });

    const started = Date.now();
    await stopNode(app);

    expect(Date.now() - started).to.be.below(10_000);
    expect(unhandled).to.deep.equal([]);
    redis = await startRedis('redis-outage', redisPort);
  });
});
