import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { connectRedis, type RedisConnections } from '../server/cluster/redis.js';
import { RedisPresenceStore, type OfflineListener } from '../server/cluster/redis-presence.js';
import type { OnlineUser } from '../server/protocol.js';
import { deleteRedisKeys } from './support/redis-keys.js';
import { recordSkip } from './support/services.js';
import { environment } from './support/environment.js';
import { testLogger, waitFor } from './support/util.js';

// Heartbeats every 50 ms, dead after 300 ms: node death is seen in well under a second.
const FAST = { heartbeatMs: 50, nodeTtlMs: 300 };

describe('RedisPresenceStore (cluster-wide presence)', () => {
  let redis: RedisConnections;
  let prefix: string;
  const stores: RedisPresenceStore[] = [];
  const carol: OnlineUser = { userId: randomUUID(), username: 'carol' };
  const dave: OnlineUser = { userId: randomUUID(), username: 'dave' };

  before(async function () {
    const url = environment.get().services.redisUrl;
    if (!url) {
      recordSkip('Redis presence store tests', 'Redis');
      this.skip();
    }
    redis = await connectRedis(url, testLogger());
  });
  beforeEach(() => {
    prefix = `presence-test-${randomUUID().slice(0, 8)}`;
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    if (redis) await deleteRedisKeys(environment.get().services.redisUrl!, prefix);
  });
  after(async () => {
    await redis?.close();
  });

  const store = (nodeId: string, onOffline: OfflineListener = () => {}) => {
    const s = new RedisPresenceStore(redis.data, prefix, nodeId, testLogger(), onOffline, FAST);
    stores.push(s);
    return s;
  };

  it('when a user has sockets on two nodes, then only the first add and the last remove say so', async () => {
    const [a, b] = [store('a'), store('b')];
    const room = randomUUID();

    expect(await a.add(room, carol, 's1')).to.equal(true);
    expect(await b.add(room, carol, 's2')).to.equal(false);
    expect(await b.list(room)).to.deep.equal([carol]);
    expect(await a.remove(room, carol.userId, 's1')).to.equal(false);
    expect(await a.list(room)).to.deep.equal([carol]);
    expect(await b.remove(room, carol.userId, 's2')).to.equal(true);
    expect(await a.list(room)).to.deep.equal([]);
    expect(await b.remove(room, carol.userId, 's2')).to.equal(false);
  });

  it('when many sockets of one user join at once on several nodes, then exactly one is first and exactly one is last', async () => {
    const nodes = [store('a'), store('b'), store('c')];
    const room = randomUUID();
    const sockets = Array.from({ length: 30 }, (_, i) => ({ node: nodes[i % 3]!, id: `s${i}` }));

    const added = await Promise.all(sockets.map(({ node, id }) => node.add(room, carol, id)));
    const removed = await Promise.all(sockets.map(({ node, id }) => node.remove(room, carol.userId, id)));

    expect(added.filter(Boolean)).to.have.length(1);
    expect(removed.filter(Boolean)).to.have.length(1);
  });

  it('when a node dies with sockets in a room, then its users stop counting and a live node announces them offline once', async () => {
    const offline: [string, OnlineUser][] = [];
    const dying = store('dying');
    const live = store('live', (roomId, user) => offline.push([roomId, user]));
    const room = randomUUID();
    await dying.add(room, carol, 's1');
    await dying.add(room, dave, 's2');
    await live.add(room, dave, 's3');

    // A crash: the heartbeat stops and nothing is removed (close drops the heartbeat key at once).
    stores.splice(stores.indexOf(dying), 1);
    await dying.close();

    expect(await live.list(room)).to.deep.equal([dave]);
    await waitFor(() => offline.length > 0, 2_000, 'the sweep of the dead node');
    expect(offline).to.deep.equal([[room, carol]]);
    expect(await live.remove(room, dave.userId, 's3')).to.equal(true);
    expect(await live.add(room, carol, 's4')).to.equal(true);
  });
  it('when the online list is paged, then users come in userId order once each, the count is all of them, and a dead node’s users are skipped', async () => {
    const [a, b] = [store('a'), store('b')];
    const dying = store('dying');
    const room = randomUUID();
    const users = Array.from({ length: 5 }, (_, i) => ({ userId: randomUUID(), username: `u${i}` }));
    for (const [i, user] of users.entries()) await (i % 2 ? a : b).add(room, user, `s${i}`);
    const ghost = { userId: randomUUID(), username: 'ghost' };
    await dying.add(room, ghost, 'sg');
    stores.splice(stores.indexOf(dying), 1);
    await dying.close();

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await a.page(room, cursor, 2);
      expect(page.online.length).to.be.at.most(2);
      seen.push(...page.online.map((u) => u.userId));
      cursor = page.nextCursor;
      if (cursor === null) break;
    }

    expect(cursor).to.equal(null);
    expect(seen).to.deep.equal(users.map((u) => u.userId).sort());
    expect((await b.page(room, null, 100)).count).to.be.oneOf([5, 6]); // the ghost counts until its node is swept
    expect(await a.remove(room, users[1]!.userId, 's1')).to.equal(true);
    expect((await a.page(room, null, 100)).online.map((u) => u.userId)).to.not.include(users[1]!.userId);
  });

  it('when this node’s sockets are gone but their entries stayed, then a sweep removes just those and reports each user once', async () => {
    const a = store('a');
    const b = store('b');
    const room = randomUUID();
    await a.add(room, carol, 'gone1');
    await a.add(room, dave, 'gone2');
    await a.add(room, dave, 'live1');
    await b.add(room, carol, 'elsewhere');
    const bOnly = randomUUID();
    await a.add(bOnly, carol, 'gone3');

    const offline = await a.sweep((socketId) => socketId === 'live1');

    // carol stays online in `room` through node b; dave through his live socket; in bOnly carol had only the ghost.
    expect(offline).to.deep.equal([{ roomId: bOnly, user: carol }]);
    expect(await a.list(room)).to.have.deep.members([carol, dave]);
    expect(await a.list(bOnly)).to.deep.equal([]);
    expect(await b.remove(room, carol.userId, 'elsewhere')).to.equal(true);
    expect(await a.sweep(() => false)).to.deep.equal([{ roomId: room, user: dave }]);
  });

  it('when a user opens sockets on several nodes at once, then exactly the cap are registered', async () => {
    const [a, b, c] = [store('a'), store('b'), store('c')];
    const user = randomUUID();

    const opened = await Promise.all(Array.from({ length: 12 }, (_, i) => [a, b, c][i % 3]!.openSocket(user, `s${i}`, 3)));

    expect(opened.filter(Boolean)).to.have.length(3);
  });

  it('when a socket closes, then it frees a place on any node; when a node dies, then its sockets stop counting', async () => {
    const [a, b] = [store('a'), store('b')];
    const user = randomUUID();
    expect(await a.openSocket(user, 'a1', 3)).to.equal(true);
    expect(await b.openSocket(user, 'b1', 3)).to.equal(true);
    expect(await b.openSocket(user, 'b2', 3)).to.equal(true);
    expect(await a.openSocket(user, 'a2', 3)).to.equal(false);

    await a.closeSocket(user, 'a1');
    await a.closeSocket(user, 'a1');
    expect(await b.openSocket(user, 'b3', 3)).to.equal(true);
    expect(await a.openSocket(user, 'a3', 3)).to.equal(false);

    // A crash of b: its heartbeat goes, and its three sockets no longer count.
    stores.splice(stores.indexOf(b), 1);
    await b.close();
    for (const id of ['a4', 'a5', 'a6']) expect(await a.openSocket(user, id, 3), id).to.equal(true);
    expect(await a.openSocket(user, 'a7', 3)).to.equal(false);
    // ...and the sweep of the dead node takes them out of Redis too.
    await waitFor(async () => (await redis.data.sCard(`${prefix}:user-sockets:${user}`)) === 3, 2_000, 'the sweep of b’s sockets');
    expect((await redis.data.sMembers(`${prefix}:user-sockets:${user}`)).map((m) => m.split('/')[1]).sort()).to.deep.equal(['a4', 'a5', 'a6']);
  });

  it('when the cap is 0, then openSocket always registers', async () => {
    const a = store('a');
    const user = randomUUID();
    for (let i = 0; i < 30; i++) expect(await a.openSocket(user, `s${i}`, 0)).to.equal(true);
  });
});
