import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message, StateChange } from '../client-sdk/src/index.js';
import { startBalancer, type Balancer } from '../chaos/balancer.js';
import { check, fetchHistory } from '../chaos/invariants.js';
import { Load } from '../chaos/load.js';
import type { MessageResult, ServerDrainingEvent } from '../server/protocol.js';
import { useRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { startNodeProcess, stopChildren, type NodeProcess } from './support/processes.js';
import { deleteRedisKeys } from './support/redis-keys.js';
import { closeClients, received, signedUpClient } from './support/sdk.js';
import { recordSkip } from './support/services.js';
import { closeAll, connect, createRoom, http, nextEvent, ok, registerUser, sleep, startNode, stopNode, uniqueName, waitFor } from './support/util.js';

describe('draining: a closing node refuses handshakes and tells its clients first', () => {
  afterEach(closeAll);

  it('when a node drains, then new handshakes get unavailable (draining), its sockets get server:draining, sends are still taken during the grace, and it closes after it', async function () {
    this.timeout(20_000);
    const app = await startNode({ DRAIN_GRACE_MS: '1500' });
    const alice = await registerUser(app);
    const room = await createRoom(app, alice.accessToken);
    const socket = await connect(app, { token: alice.accessToken });
    await ok(socket, 'room:join', { roomId: room.id });
    const told = nextEvent<ServerDrainingEvent>(socket, 'server:draining');
    const disconnected = nextEvent<string>(socket, 'disconnect', 10_000);

    const started = Date.now();
    const closing = stopNode(app);
    expect(await told).to.deep.equal({ closeInMs: 1500 });

    const refused = await connect(app, { token: alice.accessToken }).then(
      () => null,
      (err: Error & { data?: unknown }) => ({ message: err.message, data: err.data }),
    );
    expect(refused).to.deep.equal({ message: 'unavailable', data: { code: 'unavailable', reason: 'draining' } });
    const ready = await http<{ failed: string[] }>(app, 'GET', '/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.body.failed).to.include('draining');
    // The grace is for moving, not for losing: a send on the old socket is still stored and acked.
    const sent = await ok<MessageResult>(socket, 'message:send', { roomId: room.id, content: 'during the grace', clientMsgId: randomUUID() });
    expect(sent.message.content).to.equal('during the grace');

    await closing;
    // This raw client never left, so the node waited out the whole grace before closing it.
    expect(Date.now() - started).to.be.at.least(1_400);
    expect(await disconnected).to.equal('transport close');
  });

  it('when every socket leaves after server:draining, then the node closes without waiting out the grace', async function () {
    this.timeout(20_000);
    const app = await startNode({ DRAIN_GRACE_MS: '5000' });
    const bob = await registerUser(app);
    const socket = await connect(app, { token: bob.accessToken });
    socket.once('server:draining', () => socket.disconnect());
    const started = Date.now();
    await stopNode(app);
    expect(Date.now() - started).to.be.below(3_000);
  });

  it('when DRAIN_GRACE_MS is 0, then the node announces nothing and closes at once', async function () {
    const app = await startNode({ DRAIN_GRACE_MS: '0' });
    const carol = await registerUser(app);
    const socket = await connect(app, { token: carol.accessToken });
    let told = false;
    socket.on('server:draining', () => void (told = true));
    const disconnected = nextEvent<string>(socket, 'disconnect', 5_000);
    await stopNode(app);
    await disconnected;
    expect(told).to.equal(false);
  });
});

describe('draining: the SDK moves to another node before the close', () => {
  const cluster = useRedisCluster('SDK handover on drain');
  afterEach(closeClients);

  it('when the node of an SDK client with a URL list drains while it sends, then it moves to the next node without ever going reconnecting, and sends and deliveries are exact', async function () {
    this.timeout(30_000);
    const nodeA = await cluster.node('drain-a', { DRAIN_GRACE_MS: '4000' });
    const nodeB = await cluster.node('drain-b');
    const { client: mover } = await signedUpClient([nodeA.url(), nodeB.url()]);
    const { client: reader } = await signedUpClient(nodeB.url());
    const created = await mover.rooms.create({ name: uniqueName('room') });
    const out = await mover.join(created.id);
    const inbox = await reader.join(created.id);
    const seen = received(inbox);
    const ownSeen = received(out);
    const states: StateChange[] = [];
    mover.on('state', (s) => states.push(s));
    const firstSocket = mover.socketId;
    const readerSocket = reader.socketId;

    const acks: Message[] = [];
    const sending = (async () => {
      for (let i = 0; i < 60; i++) {
        acks.push(await out.send(`m${i}`));
        await sleep(20);
      }
    })();
    await waitFor(() => acks.length >= 10, 10_000, 'first sends');
    const started = Date.now();
    await stopNode(nodeA);
    const closeMs = Date.now() - started;
    await sending;

    // The node closed early because its one client had left: the client moved before the close.
    expect(closeMs, 'node A waited out its grace: the client did not leave').to.be.below(4_000);
    expect(states.map((s) => s.state), 'the client never lost its connection').to.deep.equal([]);
    expect(mover.state).to.equal('connected');
    expect(mover.socketId).to.not.equal(firstSocket);
    // server:draining went to node A's own sockets only, not through the adapter to node B's.
    expect(reader.socketId).to.equal(readerSocket);
    await waitFor(() => seen.length >= 60 && ownSeen.length >= 60, 10_000, 'every message on both clients');
    const token = (await registerUser(nodeB)).accessToken;
    const history = await http<{ messages: Message[] }>(nodeB, 'GET', `/api/rooms/${created.id}/messages?afterSeq=0&limit=200`, { token });
    expect(history.body.messages.map((m) => m.content)).to.deep.equal(Array.from({ length: 60 }, (_, i) => `m${i}`));
    expect(acks.map((m) => m.id)).to.deep.equal(history.body.messages.map((m) => m.id));
    expect(seen).to.deep.equal(history.body.messages);
    expect(ownSeen).to.deep.equal(history.body.messages);
  });
});

describe('draining: SIGTERM under load behind a health-checking balancer (node processes)', () => {
  let nodes: NodeProcess[] = [];
  let balancer: Balancer | null = null;
  let load: Load | null = null;
  const prefix = `drain-test-${randomUUID().slice(0, 8)}`;

  before(async function () {
    this.timeout(120_000);
    const { services } = environment.get();
    if (!services.redisUrl || !services.databaseUrl) {
      recordSkip('drain under load behind a balancer', services.redisUrl ? 'PostgreSQL' : 'Redis');
      return this.skip();
    }
    const env = { DATABASE_URL: services.databaseUrl, REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: prefix, MESSAGE_RATE_LIMIT: '0', DRAIN_GRACE_MS: '5000', LOG_LEVEL: 'warn' };
    // One after the other: two cold starts at once take long on a busy machine.
    nodes = [await startNodeProcess('drain-node-1', env), await startNodeProcess('drain-node-2', env)];
    balancer = await startBalancer(nodes.map((n) => n.url));
  });
  after(async function () {
    this.timeout(30_000);
    load?.close();
    await balancer?.close();
    await stopChildren();
    const { redisUrl } = environment.get().services;
    if (redisUrl) await deleteRedisKeys(redisUrl, prefix);
  });

  it('when one of two nodes gets SIGTERM while SDK clients send through the balancer, then they all move to the other node before the close, and every acked message is stored once and received by every client in order', async function () {
    this.timeout(90_000);
    const lb = balancer!;
    load = await Load.start({ urls: Array.from({ length: 6 }, () => [lb.url]), intervalMs: 30 }, 'drain');
    const states: string[] = [];
    for (const c of load.clients) c.client.on('state', ({ state }) => states.push(`${c.name}:${state}`));
    const observer = await registerUser(lb.url);
    const connectionsBefore = lb.connections.get(nodes[0]!.url) ?? 0;
    expect(connectionsBefore, 'the balancer spread the clients: some are on node 1').to.be.above(0);

    load.run();
    await sleep(1_500);
    const started = Date.now();
    await nodes[0]!.child.stop('SIGTERM', 15_000);
    const exitMs = Date.now() - started;
    const exit = nodes[0]!.child.exited();
    await sleep(1_500);
    await load.stop(30_000);

    expect(exit?.code, 'exit code').to.equal(0);
    // The grace ends early only when no socket is left: every client moved before the close.
    expect(exitMs, 'node 1 waited out its 5 s grace: some client did not move').to.be.below(5_000);
    expect(states, 'no client lost its connection on the way').to.deep.equal([]);
    for (const c of load.clients) expect(c.client.state).to.equal('connected');

    let history = await fetchHistory(lb.url, observer.accessToken, load.roomId);
    await waitFor(
      async () => {
        history = await fetchHistory(lb.url, observer.accessToken, load!.roomId);
        return load!.clients.every((c) => c.seen.length >= history.length);
      },
      20_000,
      'every client to have the whole history',
    );
    await sleep(300); // anything late and doubled would show up now
    const tally = check(load, history);
    expect(tally.violations, tally.violations.join('\n')).to.deep.equal([]);
    expect(tally.acked).to.be.above(20);
    expect(tally.acked + tally.rejected).to.equal(history.length);
    expect(tally.rejected).to.equal(0);
  });
});
