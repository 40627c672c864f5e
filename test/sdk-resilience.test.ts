import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { RoomcastApp } from '../server/app.js';
import { SocketSessions } from '../server/realtime/sessions.js';
import { RoomcastError, type Message, type StateChange } from '../client-sdk/src/index.js';
import { closeClientsAfterEach, received, sdkClient, senderAndReader, signedUpClient } from './support/sdk.js';
import { environment } from './support/environment.js';
import { http, registerUser, sleep, startNode, stopNode, uniqueName, waitFor } from './support/util.js';

const portOf = (app: RoomcastApp) => (app.httpServer.address() as AddressInfo).port;

/** The room's full history through REST, oldest first. */
async function serverHistory(app: RoomcastApp | string, token: string, roomId: string): Promise<Message[]> {
  const all: Message[] = [];
  for (let page = 0; page < 50; page++) {
    const res = await http<{ messages: Message[]; hasMore: boolean }>(app, 'GET', `/api/rooms/${roomId}/messages?afterSeq=${all.at(-1)?.seq ?? 0}&limit=200`, { token });
    all.push(...res.body.messages);
    if (!res.body.hasMore) break;
  }
  return all;
}

/** Counts engine-level connection attempts that reach a node (refused handshakes included). */
function countAttempts(app: RoomcastApp): { count: number } {
  const counter = { count: 0 };
  app.io.engine.on('connection', () => counter.count++);
  return counter;
}

describe('client SDK: tokens and refusals', () => {
  closeClientsAfterEach();

  it('when the access token lives 2 s, then it is renewed ahead of expiry and the same socket stays up across several expiries', async () => {
    const app = await startNode({ ACCESS_TOKEN_TTL: '2', MESSAGE_RATE_LIMIT: '0' });
    const { client } = await signedUpClient(app);
    const created = await client.rooms.create({ name: uniqueName('room') });
    const states: StateChange[] = [];
    client.on('state', (s) => states.push(s));
    const room = await client.join(created.id);
    const socketId = client.socketId;

    const sent: Message[] = [];
    for (let i = 0; i < 6; i++) {
      await sleep(1_000);
      sent.push(await room.send(`tick ${i}`));
    }

    expect(client.socketId).to.equal(socketId);
    expect(states.map((s) => s.state)).to.deep.equal(['connecting', 'connected']);
    expect(sent.map((m) => m.seq)).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it('when the server revokes the session for a ban, then the client ends closed with the reason and makes no further attempt', async () => {
    const app = await startNode();
    const { client } = await signedUpClient(app);
    const ended: string[] = [];
    client.on('sessionEnded', (e) => ended.push(e.reason));
    await client.connect();
    const attempts = countAttempts(app);

    await environment.get().database.knex('users').where({ id: client.user!.id }).update({ banned: true });
    new SocketSessions([app.io.of('/chat'), app.io.of('/admin')]).endUserSessions(client.user!.id, 'banned');
    await waitFor(() => client.state === 'closed', 5_000, 'closed');
    await sleep(2_000);

    expect(ended).to.deep.equal(['revoked:banned']);
    expect(attempts.count).to.equal(0);
  });

  it('when a banned user is dropped without notice, then the reconnect is refused with banned and retries stop', async () => {
    const app = await startNode();
    const { client } = await signedUpClient(app);
    const closed: StateChange[] = [];
    client.on('state', (s) => s.state === 'closed' && closed.push(s));
    await client.connect();
    const attempts = countAttempts(app);

    await environment.get().database.knex('users').where({ id: client.user!.id }).update({ banned: true });
    app.io.of('/chat').in(`user:${client.user!.id}`).disconnectSockets();
    await waitFor(() => client.state === 'closed', 5_000, 'closed');
    const afterClose = attempts.count;
    await sleep(2_000);

    expect(closed).to.have.length(1);
    expect(closed[0]!.reason).to.equal('banned');
    expect(closed[0]!.error?.code).to.equal('banned');
    expect(attempts.count).to.equal(afterClose);
  });

  it('when a banned user logs in, then login rejects with banned', async () => {
    const app = await startNode();
    const { client, username, password } = await signedUpClient(app);
    await environment.get().database.knex('users').where({ id: client.user!.id }).update({ banned: true });

    const fresh = sdkClient(app);
    const err = await fresh.login(username, password).catch((e: unknown) => e);

    expect(err).to.be.instanceOf(RoomcastError);
    expect((err as RoomcastError).code).to.equal('banned');
  });

  it('when the stored refresh token was already used, then renewal is refused, the client closes with refresh_reused and stops', async () => {
    const app = await startNode();
    const user = await registerUser(app);
    const rotated = await http(app, 'POST', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(rotated.status).to.equal(200);
    const attempts = countAttempts(app);
    const client = sdkClient(app, { refreshToken: user.refreshToken });
    const ended: string[] = [];
    client.on('sessionEnded', (e) => ended.push(e.reason));

    const err = await client.connect().catch((e: unknown) => e);
    await sleep(1_000);

    expect((err as RoomcastError).code).to.equal('refresh_reused');
    expect(client.state).to.equal('closed');
    expect(ended).to.deep.equal(['refresh_reused']);
    expect(attempts.count).to.equal(0);
  });

  it('when a member opens the admin handle, then it is refused with forbidden', async () => {
    const app = await startNode();
    const { client } = await signedUpClient(app);
    const err = await client.admin.stats().catch((e: unknown) => e);
    expect((err as RoomcastError).code).to.equal('forbidden');
  });
});

describe('client SDK: delivery across reconnects', () => {
  closeClientsAfterEach();

  it('when the node is stopped and a new one starts on the same port while another client keeps sending, then the app list equals the history', async () => {
    const first = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const port = portOf(first);
    const url = first.url();
    const { reader, created, out, inbox } = await senderAndReader(url);
    const seen = received(inbox);
    const firstSocket = reader.socketId;

    const sending = (async () => {
      const acks: Message[] = [];
      for (let i = 0; i < 40; i++) {
        acks.push(await out.send(`m${i}`));
        await sleep(15);
      }
      return acks;
    })();
    await waitFor(() => seen.length >= 10, 10_000, 'first messages');
    await stopNode(first);
    const second = await startNode({ MESSAGE_RATE_LIMIT: '0', PORT: String(port) });
    const acks = await sending;

    await waitFor(() => seen.length >= 40, 10_000, 'all messages');
    const history = await serverHistory(second, (await registerUser(second)).accessToken, created.id);
    expect(acks.map((m) => m.seq)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(seen).to.deep.equal(history);
    expect(history.map((m) => m.content)).to.deep.equal(Array.from({ length: 40 }, (_, i) => `m${i}`));
    expect(reader.socketId).to.not.equal(firstSocket);
  });

  it('when sends are made while offline, then they go out in order on reconnect, once each', async () => {
    const first = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const port = portOf(first);
    const { client } = await signedUpClient(first.url());
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);
    const seen = received(room);
    await room.send('before');

    await stopNode(first);
    await waitFor(() => client.state === 'reconnecting', 5_000, 'reconnecting');
    const pending = ['a', 'b', 'c', 'd', 'e'].map((text) => room.send(text));
    await sleep(300);
    expect(room.pendingSends).to.equal(5);
    const second = await startNode({ MESSAGE_RATE_LIMIT: '0', PORT: String(port) });
    const acks = await Promise.all(pending);

    expect(acks.map((m) => [m.seq, m.content])).to.deep.equal([[2, 'a'], [3, 'b'], [4, 'c'], [5, 'd'], [6, 'e']]);
    await waitFor(() => seen.length === 6);
    const history = await serverHistory(second, (await registerUser(second)).accessToken, created.id);
    expect(history.map((m) => m.content)).to.deep.equal(['before', 'a', 'b', 'c', 'd', 'e']);
    expect(seen).to.deep.equal(history);
  });

  it('when acks time out, then the send is retried with the same clientMsgId and stored once', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    // A slow server: the first try of each message is held back past the client's ack timeout.
    const held = new Set<string>();
    app.io.of('/chat').on('connection', (socket) => {
      socket.use(([event, payload], next) => {
        const id = (payload as { clientMsgId?: string } | undefined)?.clientMsgId;
        if (event !== 'message:send' || !id || held.has(id)) return next();
        held.add(id);
        setTimeout(next, 400);
      });
    });
    const { client } = await signedUpClient(app, { ackTimeoutMs: 150 });
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);
    const seen = received(room);

    const acks = [await room.send('one'), await room.send('two'), await room.send('three')];
    await sleep(600);

    expect(held.size).to.equal(3);
    expect(acks.map((m) => m.seq)).to.deep.equal([1, 2, 3]);
    const history = await serverHistory(app, (await registerUser(app)).accessToken, created.id);
    expect(history.map((m) => m.content)).to.deep.equal(['one', 'two', 'three']);
    expect(seen).to.deep.equal(history);
  });

  it('when acks never come, then the send rejects after maxSendAttempts and is not silently dropped', async () => {
    const app = await startNode();
    app.io.of('/chat').on('connection', (socket) => {
      socket.use(([event], next) => {
        if (event !== 'message:send') next();
      });
    });
    const { client } = await signedUpClient(app, { ackTimeoutMs: 100, maxSendAttempts: 3 });
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);

    const err = await room.send('lost?').catch((e: unknown) => e);

    expect(err).to.be.instanceOf(RoomcastError);
    expect((err as RoomcastError).code).to.equal('unavailable');
    expect((err as RoomcastError).details).to.deep.equal({ reason: 'timeout' });
  });
});
