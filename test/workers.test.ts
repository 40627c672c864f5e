import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message as SdkMessage } from '../client-sdk/src/index.js';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, Message, MessageResult, PresenceEvent, SessionRevokedEvent, StatsResult } from '../server/protocol.js';
import { workerFor } from '../server/workers/routing.js';
import { serverDisconnect } from './support/admin.js';
import { environment } from './support/environment.js';
import { stopChildren, TEST_JWT_SECRET } from './support/processes.js';
import { deleteRedisKeys } from './support/redis-keys.js';
import { closeClients, received, signedUpClient } from './support/sdk.js';
import { recordSkip } from './support/services.js';
import { collect, createRoom, http, nextEvent, ok, registerAdmin, registerUser, request, waitFor, type AdminClient, type ChatClient } from './support/util.js';
import { addressOfWorker, closeSocketsFrom, connectFrom, startWorkers, type WorkersProcess } from './support/workers.js';

// Two workers on this box (WORKERS=2 over the run's PostgreSQL and Redis): the
// primary hands each connection to the worker of its client's address, so a
// client bound to ADDRESS[i] is served by worker i.
const WORKERS = 2;
const ADDRESS = [addressOfWorker(0, WORKERS), addressOfWorker(1, WORKERS)] as const;

/** A stand-in app for the helpers that only need a URL. */
const remote = (url: string) => ({ url: () => url }) as RoomcastApp;

function send(socket: ChatClient, roomId: string, content: string): Promise<Ack<MessageResult>> {
  return request<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() });
}

/** The room's stored messages, oldest first, as history answers them. */
async function history(url: string, token: string, roomId: string): Promise<Message[]> {
  const res = await http<{ messages: Message[] }>(url, 'GET', `/api/rooms/${roomId}/messages?afterSeq=0&limit=200`, { token });
  expect(res.status).to.equal(200);
  return res.body.messages;
}

/** /chat sockets per worker node, from admin:stats asked on `admin`. */
async function socketsPerWorker(admin: AdminClient, nodeIdPrefix: string): Promise<number[]> {
  const stats = await ok<StatsResult>(admin, 'admin:stats', {});
  return Array.from({ length: WORKERS }, (_, i) => stats.nodes.filter((n) => n.id === `${nodeIdPrefix}-w${i}`).reduce((sum, n) => sum + n.sockets, 0));
}

function useServices(suite: string): { databaseUrl: string; redisUrl: string; prefix: string } {
  const settings = { databaseUrl: '', redisUrl: '', prefix: `roomcast-test-workers-${randomUUID().slice(0, 8)}` };
  before(function () {
    const { services } = environment.get();
    if (!services.databaseUrl || !services.redisUrl) {
      recordSkip(suite, services.databaseUrl ? 'Redis' : 'PostgreSQL');
      this.skip();
    }
    settings.databaseUrl = services.databaseUrl;
    settings.redisUrl = services.redisUrl;
  });
  after(async () => {
    await stopChildren();
    if (settings.redisUrl) await deleteRedisKeys(settings.redisUrl, settings.prefix);
  });
  return settings;
}

describe('WORKERS=2: two workers on one box', function () {
  this.timeout(120_000);
  const services = useServices('WORKERS=2 (worker processes)');
  const name = `workers-${randomUUID().slice(0, 6)}`;
  let box: WorkersProcess;

  before(async function () {
    this.timeout(90_000);
    box = await startWorkers(name, WORKERS, {
      DATABASE_URL: services.databaseUrl,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: services.prefix,
      MESSAGE_RATE_LIMIT: '0',
      MAX_SOCKETS_PER_USER: '2',
    });
  });
  afterEach(() => {
    closeClients();
    closeSocketsFrom();
  });

  it('when clients on both workers use websocket and long-polling, then every socket gets every message of the room, in seq order, from senders on either worker', async () => {
    const [alice, bob, carol, dave] = await Promise.all([1, 2, 3, 4].map(() => registerUser(box.url)));
    const room = await createRoom(box.url, alice!.accessToken);
    // Each worker has a socket on each transport.
    const sockets = await Promise.all([
      connectFrom(box.url, ADDRESS[0], alice!.accessToken, 'polling'),
      connectFrom(box.url, ADDRESS[1], bob!.accessToken, 'websocket'),
      connectFrom(box.url, ADDRESS[1], carol!.accessToken, 'polling'),
      connectFrom(box.url, ADDRESS[0], dave!.accessToken, 'websocket'),
    ]);
    for (const socket of sockets) await ok(socket, 'room:join', { roomId: room.id });
    const admin = await registerAdmin(remote(box.url));
    const adminSocket = await connectFrom<AdminClient>(box.url, ADDRESS[0], admin.accessToken, 'websocket', '/admin');
    expect(await socketsPerWorker(adminSocket, name), 'two /chat sockets on each worker').to.deep.equal([2, 2]);
    const inboxes = sockets.map((socket) => collect<Message>(socket, 'message:new'));

    // Alice (worker 0, polling) and Bob (worker 1, websocket) send at once.
    const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => send(i % 2 ? sockets[1]! : sockets[0]!, room.id, `m${i}`)));
    for (const ack of acks) expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    const stored = await history(box.url, alice!.accessToken, room.id);
    expect(stored.map((m) => m.seq)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));

    // Everyone but the sending socket gets each message, each socket in seq order.
    const expected = (socketIndex: number) => stored.filter((m) => m.userId !== [alice, bob, carol, dave][socketIndex]!.user.id);
    await waitFor(() => inboxes.every((inbox, i) => inbox.length >= expected(i).length), 10_000, 'every message on every socket');
    inboxes.forEach((inbox, i) => expect(inbox.map((m) => m.id), `socket ${i}`).to.deep.equal(expected(i).map((m) => m.id)));
  });

  it('when a user is online on worker 1, then a watcher on worker 0 sees the presence, the socket cap counts both workers, and a ban ends the sockets on every worker', async () => {
    const [watcher, target] = await Promise.all([registerUser(box.url), registerUser(box.url)]);
    const admin = await registerAdmin(remote(box.url));
    const room = await createRoom(box.url, watcher!.accessToken);
    const watching = await connectFrom(box.url, ADDRESS[0], watcher!.accessToken, 'websocket');
    await ok(watching, 'room:join', { roomId: room.id });
    const presence = collect<PresenceEvent>(watching, 'presence');

    const onOne = await connectFrom(box.url, ADDRESS[1], target!.accessToken, 'polling');
    const joined = await ok<{ online: { userId: string }[] }>(onOne, 'room:join', { roomId: room.id });
    expect(joined.online.map((u) => u.userId), 'worker 1 lists the user online on worker 0').to.include(watcher!.user.id);
    await waitFor(() => presence.some((p) => p.userId === target!.user.id && p.online), 5_000, 'presence online on worker 0');
    const onZero = await connectFrom(box.url, ADDRESS[0], target!.accessToken, 'websocket');
    await ok(onZero, 'room:join', { roomId: room.id });

    // MAX_SOCKETS_PER_USER=2 holds across the workers: a third socket is refused on either.
    for (const address of ADDRESS) {
      const refused = await connectFrom(box.url, address, target!.accessToken, 'websocket').then(
        () => null,
        (err: Error & { data?: { reason?: string } }) => err.data?.reason,
      );
      expect(refused, `third socket through ${address}`).to.equal('too_many_sockets');
    }

    const revoked = [onOne, onZero].map((socket) => nextEvent<SessionRevokedEvent>(socket, 'session:revoked', 5_000));
    const gone = [onOne, onZero].map((socket) => serverDisconnect(socket, 5_000));
    const res = await http(box.url, 'PATCH', `/api/admin/users/${target!.user.id}`, { token: admin.accessToken, body: { banned: true } });
    expect(res.status).to.equal(200);
    expect((await Promise.all(revoked)).map((r) => r.reason)).to.deep.equal(['banned', 'banned']);
    await Promise.all(gone);
    await waitFor(() => presence.some((p) => p.userId === target!.user.id && !p.online), 5_000, 'presence offline on worker 0');
  });

  it('when a worker is killed, then it is replaced, and its SDK client reconnects and catches up with nothing acked lost', async () => {
    // The SDK connects from 127.0.0.1: its worker is the one to kill; the sender is on the other.
    const victim = workerFor('127.0.0.1', WORKERS);
    const { client: reader } = await signedUpClient(box.url);
    const sender = await registerUser(box.url);
    const room = await createRoom(box.url, sender.accessToken);
    const inbox = await reader.join(room.id);
    const seen = received(inbox);
    const senderSocket = await connectFrom(box.url, ADDRESS[1 - victim]!, sender.accessToken, 'websocket');
    await ok(senderSocket, 'room:join', { roomId: room.id });

    const before: SdkMessage[] = [];
    for (let i = 0; i < 5; i++) before.push(await inbox.send(`reader-${i}`));
    for (let i = 0; i < 5; i++) expect((await send(senderSocket, room.id, `before-${i}`)).ok).to.equal(true);
    await waitFor(() => seen.length >= 10, 10_000, 'the first messages on the reader');

    const replaced = box.nextServing(victim, 60_000);
    const killedPid = box.pids[victim]!;
    const down = new Promise<void>((resolve) => reader.once('state', () => resolve()));
    // Sends in flight as the worker dies: committed or not, the SDK retries them (same clientMsgId) until acked.
    const inFlight = Array.from({ length: 3 }, (_, i) => inbox.send(`inflight-${i}`));
    process.kill(killedPid, 'SIGKILL');
    await down;
    // Sent and acked while the reader's worker is down or starting again.
    const during: Ack<MessageResult>[] = [];
    for (let i = 0; i < 10; i++) during.push(await send(senderSocket, room.id, `during-${i}`));
    for (const ack of during) expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    const newPid = await replaced;
    expect(newPid).to.not.equal(killedPid);

    const retried = await Promise.all(inFlight);
    await waitFor(() => reader.state === 'connected' && seen.length >= 23, 60_000, 'the reader back with every message');
    const stored = await history(box.url, sender.accessToken, room.id);
    expect(stored.map((m) => m.seq), 'gap-free').to.deep.equal(stored.map((_, i) => i + 1));
    const storedIds = new Set(stored.map((m) => m.id));
    for (const message of [...before, ...retried]) expect(storedIds.has(message.id), `acked ${message.content} is stored`).to.equal(true);
    expect(stored.slice(0, 10).map((m) => m.content)).to.deep.equal([...before.map((m) => m.content), ...Array.from({ length: 5 }, (_, i) => `before-${i}`)]);
    // The rest, each exactly once: the in-flight sends (wherever they fell) and the sender's, in its order.
    const rest = stored.slice(10).map((m) => m.content);
    expect([...rest].sort()).to.deep.equal([...Array.from({ length: 10 }, (_, i) => `during-${i}`), ...Array.from({ length: 3 }, (_, i) => `inflight-${i}`)].sort());
    expect(rest.filter((c) => c.startsWith('during-'))).to.deep.equal(Array.from({ length: 10 }, (_, i) => `during-${i}`));
    // The reader's list (its own sends included) is the history: what it missed came by catch-up, in order, once.
    expect(seen.map((m) => m.id)).to.deep.equal(stored.map((m) => m.id));
  });
});

describe('WORKERS=2: SIGTERM to the primary', function () {
  this.timeout(120_000);
  const services = useServices('WORKERS=2 graceful stop');
  afterEach(closeSocketsFrom);

  it('when the primary gets SIGTERM with clients on both workers and sends in flight, then every worker drains, every ok ack is stored, and it exits 0', async () => {
    const box = await startWorkers(`workers-stop-${randomUUID().slice(0, 6)}`, WORKERS, {
      DATABASE_URL: services.databaseUrl,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: services.prefix,
      MESSAGE_RATE_LIMIT: '0',
    });
    const [alice, bob] = await Promise.all([registerUser(box.url), registerUser(box.url)]);
    const room = await createRoom(box.url, alice!.accessToken);
    const sockets = await Promise.all([
      connectFrom(box.url, ADDRESS[0], alice!.accessToken, 'websocket'),
      connectFrom(box.url, ADDRESS[1], bob!.accessToken, 'polling'),
    ]);
    for (const socket of sockets) await ok(socket, 'room:join', { roomId: room.id });
    const draining = sockets.map((socket) => nextEvent(socket, 'server:draining', 10_000));
    const disconnected = sockets.map((socket) => nextEvent<string>(socket, 'disconnect', 15_000));
    const sends = sockets.flatMap((socket, s) =>
      Array.from({ length: 20 }, (_, i) =>
        send(socket, room.id, `inflight-${s}-${i}`).then(
          (ack) => (ack.ok ? ack.message.id : null),
          () => null,
        ),
      ),
    );
    await Promise.race(sends);

    box.child.process.kill('SIGTERM');
    await Promise.all(draining);
    await Promise.all(disconnected);
    await new Promise<void>((resolve) => (box.child.exited() ? resolve() : box.child.process.once('exit', () => resolve())));
    expect(box.child.exited()).to.deep.equal({ code: 0, signal: null });
    for (const pid of box.pids) expect(() => process.kill(pid, 0), `worker ${pid} is gone`).to.throw();

    const acked = (await Promise.all(sends)).filter((id): id is string => id !== null);
    expect(acked.length).to.be.greaterThan(0);
    const rows = (await environment.get().database.knex('messages').where({ room_id: room.id }).orderBy('seq').select('id', 'seq')) as { id: string; seq: number }[];
    const storedIds = new Set(rows.map((r) => r.id));
    for (const id of acked) expect(storedIds.has(id), `acked ${id} is stored`).to.equal(true);
    expect(rows.map((r) => r.seq)).to.deep.equal(rows.map((_, i) => i + 1));
  });
});

/** Runs `npm start`'s main.ts with `env` until it exits by itself (killed after `timeoutMs`); its exit code and output. */
async function runToExit(env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', JWT_SECRET: TEST_JWT_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, output };
}

describe('WORKERS=2 that cannot run', () => {
  it('when WORKERS=2 has no DATABASE_URL, then `npm start` refuses with that one line and exit code 1', async function () {
    this.timeout(30_000);
    const { code, output } = await runToExit({ WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' }, 25_000);
    expect(code, output).to.equal(1);
    expect(output.trim()).to.equal(
      'invalid configuration: WORKERS=2 needs DATABASE_URL (PostgreSQL): the embedded database belongs to one process and cannot be shared by workers',
    );
  });

  it('when a worker cannot start (its database refuses connections), then the primary stops the others and exits 1 instead of forking again', async function () {
    this.timeout(90_000);
    const { redisUrl } = environment.get().services;
    if (!redisUrl) {
      recordSkip('WORKERS=2 whose workers cannot start', 'Redis');
      return this.skip();
    }
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const { code, output } = await runToExit({ WORKERS: '2', REDIS_URL: redisUrl, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, 80_000);
    expect(code, output).to.equal(1);
    const lines = output.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as { message?: string }];
      } catch {
        return [];
      }
    });
    expect(lines.filter((l) => l.message === 'a worker could not start; stopping'), output).to.have.length(1);
    expect(lines.some((l) => l.message === 'worker died; starting a replacement'), 'no replacement of a worker that never served').to.equal(false);
    expect(lines.some((l) => l.message === 'roomcast is listening')).to.equal(false);
  });
});
