import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Message } from '../server/protocol.js';
import { environment } from './support/environment.js';
import { freePort } from './support/free-port.js';
import { answers200, hasCommand, startRedis, stopChildren, waitUntil } from './support/processes.js';
import { recordSkip } from './support/services.js';
import { closeAll, collect, connect, createRoom, http, membersInRoom, ok, registerAdmin, registerUser, request, startNode, uniqueName, usersWithRoom, waitFor } from './support/util.js';

const METRICS_TOKEN = 'metrics-token-for-the-test-scraper';

/** Every metric the issue lists, by the name an operator's dashboards use. */
const ROOMCAST_METRICS = [
  'roomcast_sockets_connected',
  'roomcast_rooms_active',
  'roomcast_messages_stored_total',
  'roomcast_message_send_ack_seconds',
  'roomcast_store_commit_seconds',
  'roomcast_store_batch_size',
  'roomcast_delivery_lag_seconds',
  'roomcast_delivery_gap_fills_total',
  'roomcast_history_catchup_requests_total',
  'roomcast_rate_limited_total',
  'roomcast_auth_failures_total',
  'roomcast_redis_errors_total',
  'roomcast_redis_reconnects_total',
  'roomcast_slow_consumers_total',
  'roomcast_webhook_lag_seconds',
  'nodejs_eventloop_lag_seconds',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
];

async function scrape(app: RoomcastApp): Promise<string> {
  const res = await http<string>(app, 'GET', '/metrics', { token: METRICS_TOKEN });
  expect(res.status).to.equal(200);
  return res.body;
}

/** The value of one sample (`name{labels} value`), or 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  return 0;
}

describe('GET /metrics', () => {
  afterEach(closeAll);

  describe('access', () => {
    it('when METRICS_TOKEN is set, then a request without it or with a wrong one is 401, and the right bearer token gets Prometheus text', async () => {
      const app = await startNode({ METRICS_TOKEN });

      const none = await http(app, 'GET', '/metrics');
      const wrong = await http(app, 'GET', '/metrics', { token: 'not-the-metrics-token-at-all' });
      const right = await http<string>(app, 'GET', '/metrics', { token: METRICS_TOKEN });

      expect(none.status).to.equal(401);
      expect(none.body).to.have.nested.property('error.code', 'unauthorized');
      expect(wrong.status).to.equal(401);
      expect(right.status).to.equal(200);
      expect(right.headers.get('content-type')).to.match(/^text\/plain/);
      expect(right.body).to.include('# TYPE roomcast_messages_stored_total counter');
    });

    it('when METRICS_TOKEN is unset, then a direct loopback request is served and a proxied one (X-Forwarded-For) is 403', async () => {
      const app = await startNode();

      const direct = await http(app, 'GET', '/metrics');
      const proxied = await http(app, 'GET', '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9' } });

      expect(direct.status).to.equal(200);
      expect(proxied.status).to.equal(403);
      expect(proxied.body).to.have.nested.property('error.code', 'forbidden');
    });
  });

  it('exposes every Roomcast metric and the default process metrics, each labelled with the node id', async () => {
    const nodeId = uniqueName('metrics-node');
    const app = await startNode({ METRICS_TOKEN, NODE_ID: nodeId });

    const text = await scrape(app);

    for (const name of ROOMCAST_METRICS) expect(text, name).to.match(new RegExp(`^# TYPE ${name} `, 'm'));
    const samples = text.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(samples.length).to.be.greaterThan(20);
    for (const line of samples) expect(line, line).to.include(`node="${nodeId}"`);
  });

  it('when messages flow, then stored messages, ack latency, batch sizes, delivery lag, sockets and rooms move', async () => {
    const app = await startNode({ METRICS_TOKEN, MESSAGE_RATE_LIMIT: '0' });
    const { room, sockets: [aliceSocket, bobSocket] } = await membersInRoom([app, app]);
    const admin = await registerAdmin(app);
    await connect(app, { token: admin.accessToken, namespace: '/admin' });
    // Only counters are compared with this sample; sockets and rooms are read as they stand after.
    const before = await scrape(app);
    const toBob = collect<Message>(bobSocket, 'message:new');

    for (let i = 0; i < 3; i++) await ok(aliceSocket, 'message:send', { roomId: room.id, content: `m${i}`, clientMsgId: randomUUID() });
    await waitFor(() => toBob.length === 3, 5_000, 'bob to get the messages');
    const after = await scrape(app);

    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved('roomcast_messages_stored_total')).to.equal(3);
    expect(moved('roomcast_message_send_ack_seconds_count')).to.equal(3);
    expect(moved('roomcast_store_commit_seconds_count')).to.be.at.least(1);
    expect(moved('roomcast_store_batch_size_count')).to.be.at.least(1);
    expect(moved('roomcast_store_batch_size_sum')).to.equal(3);
    expect(moved('roomcast_delivery_lag_seconds_count')).to.equal(3);
    expect(sample(after, 'roomcast_sockets_connected', { namespace: '/chat' })).to.equal(2);
    expect(sample(after, 'roomcast_sockets_connected', { namespace: '/admin' })).to.equal(1);
    expect(sample(after, 'roomcast_rooms_active')).to.equal(1);
  });

  it('counts catch-up history reads (socket and REST), rate-limit refusals and auth failures (REST and handshake)', async () => {
    const app = await startNode({ METRICS_TOKEN, MESSAGE_RATE_LIMIT: '1', LOGIN_FAILURE_LIMIT: '1' });
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([app]);
    const before = await scrape(app);

    await ok(socket, 'room:history', { roomId: room.id, afterSeq: 0 });
    await ok(socket, 'room:history', { roomId: room.id });
    expect((await http(app, 'GET', `/api/rooms/${room.id}/messages?afterSeq=0`, { token: alice.accessToken })).status).to.equal(200);
    await ok(socket, 'message:send', { roomId: room.id, content: 'first', clientMsgId: randomUUID() });
    const limited = await request(socket, 'message:send', { roomId: room.id, content: 'second', clientMsgId: randomUUID() });
    const badLogin = await http(app, 'POST', '/api/auth/login', { body: { login: alice.user.username, password: 'wrong-password' } });
    const lockedLogin = await http(app, 'POST', '/api/auth/login', { body: { login: alice.user.username, password: alice.password } });
    expect((await http(app, 'GET', '/api/me', { token: 'not-a-jwt' })).status).to.equal(401);
    const refused = await connect(app, { token: 'not-a-jwt' }).then(
      () => null,
      (err: Error) => err.message,
    );
    const after = await scrape(app);

    expect(limited).to.have.nested.property('error.code', 'rate_limited');
    expect(badLogin.status).to.equal(401);
    expect(lockedLogin.status).to.equal(429);
    expect(refused).to.equal('unauthorized');
    const moved = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved('roomcast_history_catchup_requests_total', { source: 'socket' })).to.equal(1);
    expect(moved('roomcast_history_catchup_requests_total', { source: 'rest' })).to.equal(1);
    expect(moved('roomcast_rate_limited_total', { kind: 'message' })).to.equal(1);
    expect(moved('roomcast_rate_limited_total', { kind: 'login' })).to.equal(1);
    expect(moved('roomcast_auth_failures_total', { code: 'invalid_credentials', via: 'rest' })).to.equal(1);
    expect(moved('roomcast_auth_failures_total', { code: 'unauthorized', via: 'rest' })).to.equal(1);
    expect(moved('roomcast_auth_failures_total', { code: 'unauthorized', via: 'handshake' })).to.equal(1);
  });

  it('keeps each node\'s numbers apart when several nodes run in one process', async () => {
    const busy = await startNode({ METRICS_TOKEN, MESSAGE_RATE_LIMIT: '0' });
    const idle = await startNode({ METRICS_TOKEN });
    const { room, sockets: [socket] } = await usersWithRoom([busy]);
    const idleBefore = sample(await scrape(idle), 'roomcast_messages_stored_total');

    await ok(socket, 'message:send', { roomId: room.id, content: 'only on busy', clientMsgId: randomUUID() });

    expect(sample(await scrape(busy), 'roomcast_messages_stored_total')).to.equal(1);
    expect(sample(await scrape(idle), 'roomcast_messages_stored_total')).to.equal(idleBefore);
    expect(sample(await scrape(idle), 'roomcast_sockets_connected', { namespace: '/chat' })).to.equal(0);
  });

  describe('with Redis', () => {
    before(async function () {
      if (!environment.get().services.redisUrl || !(await hasCommand('redis-server'))) {
        recordSkip('metrics of Redis errors, reconnects and cross-node delivery', 'Redis');
        this.skip();
      }
    });
    after(stopChildren);

    it('when Redis goes away and comes back, then errors and reconnects are counted; cross-node deliveries record their lag', async function () {
      this.timeout(40_000);
      const port = await freePort();
      let redis = await startRedis('metrics-redis', port);
      const env = { METRICS_TOKEN, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: uniqueName('metrics'), MESSAGE_RATE_LIMIT: '0' };
      const a = await startNode(env);
      const b = await startNode(env);
      const alice = await registerUser(a);
      const bob = await registerUser(b);
      const room = await createRoom(a, alice.accessToken);
      const aliceSocket = await connect(a, { token: alice.accessToken });
      const bobSocket = await connect(b, { token: bob.accessToken });
      for (const socket of [aliceSocket, bobSocket]) await ok(socket, 'room:join', { roomId: room.id });
      const toBob = collect<Message>(bobSocket, 'message:new');
      const lagBefore = sample(await scrape(b), 'roomcast_delivery_lag_seconds_count');

      await ok(aliceSocket, 'message:send', { roomId: room.id, content: 'across nodes', clientMsgId: randomUUID() });
      await waitFor(() => toBob.length === 1, 5_000, 'cross-node delivery');
      expect(sample(await scrape(b), 'roomcast_delivery_lag_seconds_count') - lagBefore).to.equal(1);
      expect(sample(await scrape(b), 'roomcast_messages_stored_total')).to.equal(0);

      await redis.stop('SIGTERM');
      const counted = async () => {
        const text = await scrape(a);
        return sample(text, 'roomcast_redis_errors_total', { client: 'data' }) > 0 && sample(text, 'roomcast_redis_reconnects_total', { client: 'data' }) > 0;
      };
      await waitUntil('redis errors and reconnects to be counted', counted, 10_000);
      redis = await startRedis('metrics-redis', port);
      await waitUntil('node a to be ready again', () => answers200(`${a.url()}/readyz`), 10_000);
    });
  });
});
