import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Ack, Message, MessageResult, PresenceEvent, SessionRevokedEvent, StatsResult } from '../server/protocol.js';
import { createCluster } from 'redis';
import { EmittedSessions } from '../server/cluster/emitted-sessions.js';
import { connectRedis, type RedisConnections } from '../server/cluster/redis.js';
import { RedisPresenceStore } from '../server/cluster/redis-presence.js';
import type { OnlineUser } from '../server/protocol.js';
import { adminSocket, banAcrossNodes, broadcastAcrossNodes, kickAcrossNodes, serverDisconnect } from './support/admin.js';
import { useShardedRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { runNode } from './support/node-run.js';
import { recordSkip } from './support/services.js';
import { collect, connect, createRoom, http, membersInRoom, nextEvent, ok, registerAdmin, registerUser, request, sleep, testLogger, usersWithRoom, waitFor, type ChatClient } from './support/util.js';

const seqs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const send = (socket: ChatClient, roomId: string, content: string) =>
  request<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() });

describe('nodes over a Redis Cluster (three masters, sharded pub/sub, hash-tagged keys)', function () {
  this.timeout(60_000);
  const cluster = useShardedRedisCluster('Redis Cluster cross-node tests');

  it('when senders on two nodes write into one room at once, then every receiver on either node sees 1..N once, in order', async () => {
    const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);
    const owner = await registerUser(a);
    const room = await createRoom(a, owner.accessToken);
    const senders = await Promise.all([a, b].map((app) => registerUser(app)));
    const watchers = await Promise.all([a, b].map((app) => registerUser(app)));
    const senderSockets = await Promise.all(senders.map((s, i) => connect(i === 0 ? a : b, { token: s.accessToken })));
    const watcherSockets = await Promise.all(watchers.map((w, i) => connect(i === 0 ? a : b, { token: w.accessToken })));
    for (const s of [...senderSockets, ...watcherSockets]) await ok(s, 'room:join', { roomId: room.id });
    const seen = watcherSockets.map((s) => collect<Message>(s, 'message:new'));
    const perSender = 20;

    const acks = await Promise.all(senderSockets.flatMap((socket, i) => Array.from({ length: perSender }, (_, n) => send(socket, room.id, `s${i}-${n}`))));

    expect(acks.every((ack) => ack.ok)).to.equal(true);
    await waitFor(() => seen.every((list) => list.length >= 2 * perSender), 15_000, 'every watcher to see every message');
    for (const list of seen) expect(list.map((m) => m.seq)).to.deep.equal(seqs(2 * perSender));
  });

  it('when a user has devices on two nodes, then they come online once and go offline only when the last device leaves', async () => {
    const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);
    const [carol, watcher] = await Promise.all([registerUser(a), registerUser(b)]);
    const room = await createRoom(a, carol.accessToken);
    const watcherSocket = await connect(b, { token: watcher.accessToken });
    await ok(watcherSocket, 'room:join', { roomId: room.id });
    const events = collect<PresenceEvent>(watcherSocket, 'presence');
    const carolEvents = () => events.filter((e) => e.userId === carol.user.id).map((e) => e.online);

    const phone = await connect(a, { token: carol.accessToken });
    await ok(phone, 'room:join', { roomId: room.id });
    await waitFor(() => carolEvents().length === 1, 5_000, 'carol online');
    const laptop = await connect(b, { token: carol.accessToken });
    const joined = await ok<{ online: { userId: string }[] }>(laptop, 'room:join', { roomId: room.id });
    phone.disconnect();
    const rejoined = await ok<{ online: { userId: string }[] }>(watcherSocket, 'room:join', { roomId: room.id });

    expect(joined.online.filter((u) => u.userId === carol.user.id)).to.have.length(1);
    expect(rejoined.online.map((u) => u.userId)).to.include(carol.user.id);
    await ok(laptop, 'room:leave', { roomId: room.id });
    await waitFor(() => carolEvents().length === 2, 5_000, 'carol offline');
    expect(carolEvents()).to.deep.equal([true, false]);
  });

  it('when an admin bans a user on node A, then that user’s sockets on nodes A and B get session:revoked and are gone within 1 s', async () => {
    const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);
    const { status, revoked, goneAfterMs } = await banAcrossNodes(a, b, [a, b]);
    expect(status).to.equal(200);
    for (const event of revoked) expect(event).to.deep.equal({ reason: 'banned' });
    for (const ms of goneAfterMs) expect(ms).to.be.lessThan(1_000);
  });

  it('when a user sends on two nodes, then the message rate limit counts both (5 allowed, the 6th is rate_limited)', async () => {
    const limit = { MESSAGE_RATE_LIMIT: '5', MESSAGE_RATE_WINDOW: '60' };
    const [a, b] = await Promise.all([cluster.node('a', limit), cluster.node('b', limit)]);
    const { room, users: [erin], sockets: [onA] } = await usersWithRoom([a]);
    const onB = await connect(b, { token: erin.accessToken });

    const acks: Ack<MessageResult>[] = [];
    for (const socket of [onA, onA, onA, onB, onB, onB]) acks.push(await send(socket, room.id, 'hi'));

    expect(acks.map((ack) => ack.ok)).to.deep.equal([true, true, true, true, true, false]);
    const last = acks[5]!;
    expect(!last.ok && last.error.code).to.equal('rate_limited');
  });

  it('admin:stats counts every node: requests and answers cross the sharded channels', async () => {
    const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);
    const admin = await registerAdmin(a);
    const users = await Promise.all([registerUser(a), registerUser(b)]);
    await Promise.all([connect(a, { token: users[0]!.accessToken }), connect(b, { token: users[1]!.accessToken })]);
    const control = await adminSocket(a, admin.accessToken);

    const stats = await ok<StatsResult>(control, 'admin:stats', {});

    expect(stats.nodes.map((n) => n.id).sort()).to.deep.equal([a.config.nodeId, b.config.nodeId].sort());
    expect(stats.sockets).to.equal(2);
  });

  it('admin:broadcast on node A reaches /chat sockets on both nodes, and delivered counts them all (fetchSockets over the shards)', async () => {
    const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);

    const { ack, received } = await broadcastAcrossNodes(a, b);

    expect(ack.delivered).to.equal(3);
    for (const event of received) expect(event).to.include({ content: 'maintenance at noon', roomId: null });
  });

  it('admin:kick on node A takes the user’s socket on node B out of the room before the next message', async () => {
    const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);

    const { seenByTarget, targetSocket } = await kickAcrossNodes(a, b);

    expect(seenByTarget).to.deep.equal(['before']);
    expect(targetSocket.connected).to.equal(true);
  });

  it('when the master of the fan-out channel restarts (no replicas: its keys are gone), then every send is acked and receivers catch up in order', async () => {
    const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);
    const { room, sockets: [sender, receiver] } = await membersInRoom([a, b]);
    const seen = collect<Message>(receiver, 'message:new');
    const acks: Ack<MessageResult>[] = [];
    for (let i = 0; i < 5; i++) acks.push(await send(sender, room.id, `before-${i}`));
    await waitFor(() => seen.length === 5, 5_000, 'the messages before the restart');

    // The namespace channel carries the committed batches: restart the master it lives on, sending meanwhile.
    const owner = cluster.redis.ownerOf(`${a.config.redisKeyPrefix}:socket.io#/chat#`);
    let restarted = false;
    const restart = cluster.redis.restart(owner).then(() => (restarted = true));
    for (let i = 0; i < 40 && !restarted; i++) {
      acks.push(await send(sender, room.id, `during-${i}`));
      await sleep(100);
    }
    await restart;
    for (let i = 0; i < 5; i++) acks.push(await send(sender, room.id, `after-${i}`));

    expect(acks.every((ack) => ack.ok)).to.equal(true);
    await waitFor(() => seen.length >= acks.length, 20_000, 'the receiver to catch up');
    expect(seen.map((m) => m.seq)).to.deep.equal(seqs(acks.length));
  });

  it('when the admin CLI’s emitter ends a user’s sessions on a cluster (SPUBLISH), then their socket gets session:revoked, then the disconnect', async () => {
    const app = await cluster.node('a');
    const carol = await registerUser(app);
    const socket = await connect(app, { token: carol.accessToken });
    const revoked = nextEvent<SessionRevokedEvent>(socket, 'session:revoked');
    const gone = serverDisconnect(socket);
    const redis = createCluster({ rootNodes: cluster.redis.nodes.map((n) => ({ url: `redis://${n}` })) });
    await redis.connect();
    try {
      const sessions = new EmittedSessions({ publish: (channel, message) => redis.sPublish(channel, message) }, app.config.redisKeyPrefix, true);

      sessions.endUserSessions(carol.user.id, 'banned');
      await sessions.flush();

      expect(await revoked).to.deep.equal({ reason: 'banned' });
      expect((await gone).reason).to.equal('io server disconnect');
    } finally {
      await redis.close();
    }
  });

  it('when `npm run admin ban` runs with REDIS_CLUSTER_NODES, then the user’s socket gets session:revoked banned and is disconnected', async function () {
    const { databaseUrl } = environment.get().services;
    if (!databaseUrl) {
      recordSkip('admin CLI on a Redis Cluster', 'PostgreSQL');
      this.skip();
    }
    this.timeout(150_000);
    const app = await cluster.node('cli');
    const carol = await registerUser(app);
    const socket = await connect(app, { token: carol.accessToken });
    const revoked = nextEvent<SessionRevokedEvent>(socket, 'session:revoked', 120_000);
    const disconnected = nextEvent<string>(socket, 'disconnect', 120_000);
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', DATABASE_URL: databaseUrl!, REDIS_CLUSTER_NODES: cluster.redis.nodes.join(','), REDIS_KEY_PREFIX: app.config.redisKeyPrefix };
    delete env.REDIS_URL;

    const banned = await runNode(['--import', 'tsx', 'scripts/admin-cli.ts', 'ban', carol.user.username], env, 120_000);

    expect(banned, banned.stderr).to.include({ code: 0 });
    expect(banned.stdout).to.contain('their open sessions were ended on every node');
    expect(await revoked).to.deep.equal({ reason: 'banned' });
    expect(await disconnected).to.equal('io server disconnect');
  });

  describe('presence keys on the cluster', () => {
    const FAST = { heartbeatMs: 50, nodeTtlMs: 300 };
    let redis: RedisConnections;
    const stores: RedisPresenceStore[] = [];
    const prefix = `presence-cluster-${randomUUID().slice(0, 8)}`;
    const carol: OnlineUser = { userId: randomUUID(), username: 'carol' };
    const dave: OnlineUser = { userId: randomUUID(), username: 'dave' };
    // Presence failures degrade to "no change" and a log line: a script touching a key of another slot would show as a wrong answer.
    const store = (id: string, onOffline: (roomId: string, user: OnlineUser) => void = () => {}) => {
      const s = new RedisPresenceStore(redis.data, prefix, id, testLogger(), onOffline, FAST, 'view');
      stores.push(s);
      return s;
    };

    before(async () => {
      redis = await connectRedis({ clusterNodes: cluster.redis.nodes.map((n) => `redis://${n}`) }, testLogger());
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });
    after(async () => {
      await redis?.close();
    });

    it('when rooms are spread over the shards, then each room’s keys share one master and only the first add and the last remove say so', async () => {
      const [a, b] = [store('a'), store('b')];
      const rooms = Array.from({ length: 12 }, () => randomUUID());

      for (const room of rooms) {
        expect(await a.add(room, carol, `s-${room}`), 'first').to.equal(true);
        expect(await b.add(room, carol, `t-${room}`), 'second').to.equal(false);
        expect(await b.list(room)).to.deep.equal([carol]);
        expect((await a.page(room, null, 10)).online).to.deep.equal([carol]);
      }

      const owners = rooms.map((room) => ['presence', 'presence-order', 'presence-sockets'].map((kind) => cluster.redis.ownerOf(`${prefix}:${kind}:{${room}}`)));
      for (const keys of owners) expect(new Set(keys).size).to.equal(1);
      expect(new Set(owners.map((keys) => keys[0])).size).to.be.greaterThan(1);
      for (const room of rooms) {
        expect(await a.remove(room, carol.userId, `s-${room}`)).to.equal(false);
        expect(await b.remove(room, carol.userId, `t-${room}`)).to.equal(true);
      }
    });

    it('when a node dies, then within a heartbeat its users stop counting and a live node announces them offline once', async () => {
      const offline: [string, OnlineUser][] = [];
      const dying = store('dying');
      const live = store('live', (roomId, user) => offline.push([roomId, user]));
      const room = randomUUID();
      await dying.add(room, carol, 's1');
      await dying.add(room, dave, 's2');
      await live.add(room, dave, 's3');

      stores.splice(stores.indexOf(dying), 1);
      await dying.close();

      await waitFor(() => offline.length > 0, 2_000, 'the sweep of the dead node');
      expect(offline).to.deep.equal([[room, carol]]);
      expect(await live.list(room)).to.deep.equal([dave]);
      expect(await live.remove(room, dave.userId, 's3')).to.equal(true);
    });

    it('when a user opens sockets on several nodes at once, then exactly the cap are registered, and a dead node’s stop counting', async () => {
      const [a, b] = [store('a'), store('b')];
      const user = randomUUID();

      const opened = await Promise.all(Array.from({ length: 9 }, (_, i) => [a, b][i % 2]!.openSocket(user, `s${i}`, 3)));
      expect(opened.filter(Boolean)).to.have.length(3);

      const onB = opened.filter((ok, i) => ok && i % 2 === 1).length;
      stores.splice(stores.indexOf(b), 1);
      await b.close();
      await waitFor(async () => (await redis.data.sCard(`${prefix}:user-sockets:${user}`)) === 3 - onB, 2_000, 'the sweep of b’s sockets');
      const more = await Promise.all(Array.from({ length: onB + 2 }, (_, i) => a.openSocket(user, `late${i}`, 3)));
      expect(more.filter(Boolean)).to.have.length(onB);
    });
  });
});
