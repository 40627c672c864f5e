import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, Message } from '../server/protocol.js';
import { environment } from './support/environment.js';
import { closeAll, connect, createRoom, http, nextEvent, ok, registerUser, request, startNode, stopNode, type ChatClient } from './support/util.js';

type SendOutcome = { kind: 'ok'; message: Message } | { kind: 'error'; code: string } | { kind: 'lost'; reason: string };

function send(socket: ChatClient, roomId: string, content: string, timeoutMs = 10_000): Promise<SendOutcome> {
  return request<{ message: Message }>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() }, timeoutMs).then(
    (ack: Ack<{ message: Message }>) => (ack.ok ? { kind: 'ok', message: ack.message } : { kind: 'error', code: ack.error.code }),
    (err: Error) => ({ kind: 'lost', reason: err.message }),
  );
}

async function storedSeqs(roomId: string): Promise<{ seq: number; content: string; id: string }[]> {
  const rows = (await environment.get().database.knex('messages').where({ room_id: roomId }).orderBy('seq').select('id', 'seq', 'content')) as {
    id: string;
    seq: number;
    content: string;
  }[];
  return rows;
}

describe('graceful shutdown (in process)', () => {
  afterEach(closeAll);

  it('when a node closes with sends in flight, then every ok ack is stored, seqs stay gap-free, and later sends never get ok', async () => {
    const app: RoomcastApp = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const users = await Promise.all([1, 2, 3].map(() => registerUser(app)));
    const room = await createRoom(app, users[0]!.accessToken);
    const sockets = await Promise.all(users.map((u) => connect(app, { token: u.accessToken })));
    for (const s of sockets) await ok(s, 'room:join', { roomId: room.id });

    const inFlight = sockets.flatMap((s, i) => Array.from({ length: 40 }, (_, n) => send(s, room.id, `before-${i}-${n}`)));
    // Close as soon as the node is demonstrably writing: the rest are queued or mid-commit.
    await Promise.race(inFlight);
    const closing = stopNode(app);
    const duringClose = sockets.map((s, i) => send(s, room.id, `during-${i}`));
    await closing;
    const afterClose = sockets.map((s, i) => send(s, room.id, `after-${i}`, 500));
    const outcomes = await Promise.all([...inFlight, ...duringClose, ...afterClose]);

    const acked = outcomes.flatMap((o) => (o.kind === 'ok' ? [o.message] : []));
    const stored = await storedSeqs(room.id);
    const storedIds = new Set(stored.map((m) => m.id));
    for (const message of acked) expect(storedIds.has(message.id), `acked seq ${message.seq} is stored`).to.equal(true);
    // In-flight writes commit AND ack: no stored message lost its ack to the close.
    expect(acked).to.have.length(stored.length);
    expect(stored.map((m) => m.seq)).to.deep.equal(stored.map((_, i) => i + 1));
    for (const outcome of outcomes) {
      if (outcome.kind === 'error') expect(outcome.code).to.equal('unavailable');
    }
    const late = (await Promise.all(afterClose)).filter((o) => o.kind === 'ok');
    expect(late, 'sends after close are never acked ok').to.have.length(0);
    expect(stored.some((m) => m.content.startsWith('after-'))).to.equal(false);
    expect(sockets.every((s) => !s.connected)).to.equal(true);
  });

  it('when close is called twice, then both calls resolve and the node stops once', async () => {
    const app = await startNode();
    let httpCloses = 0;
    app.httpServer.on('close', () => httpCloses++);

    const first = app.close();
    const second = app.close();
    await Promise.all([first, second]);
    await stopNode(app);

    // The second (and any later) call joins the one stop rather than starting another.
    expect(second).to.equal(first);
    expect(app.close()).to.equal(first);
    expect(httpCloses).to.equal(1);
    expect(app.httpServer.listening).to.equal(false);
  });
});

describe('graceful shutdown (separate process)', () => {
  let child: ChildProcess | null = null;
  afterEach(async () => {
    await closeAll();
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = null;
  });

  /** Starts `server/main.ts` (what `npm start` runs) and resolves with its URL from the "listening" log line. */
  function startProcess(): Promise<{ url: string; output: string[] }> {
    const output: string[] = [];
    const { databaseUrl } = environment.get().services;
    child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl ?? 'memory',
        REDIS_URL: '',
        JWT_SECRET: 'shutdown-test-secret-long-enough-for-hs256',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line within 30 s:\n${output.join('\n')}`)), 30_000);
      let buffered = '';
      proc.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          output.push(line);
          if (!line.includes('roomcast is listening')) continue;
          clearTimeout(timer);
          const { url } = JSON.parse(line) as { url: string };
          resolve({ url, output });
        }
      });
      proc.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before listening:\n${output.join('\n')}`));
      });
    });
  }

  it('when the process gets SIGTERM with a client connected, then the client is disconnected and it exits 0 within 10 s', async function () {
    this.timeout(60_000);
    const { url, output } = await startProcess();
    const proc = child!;
    // The helpers only need the node's URL.
    const remote = { url: () => url } as RoomcastApp;
    expect((await http(url, 'GET', '/healthz')).status).to.equal(200);
    const alice = await registerUser(remote);
    const room = await createRoom(remote, alice.accessToken);
    const socket = await connect(url, { token: alice.accessToken });
    await ok(socket, 'room:join', { roomId: room.id });
    const sends = Array.from({ length: 20 }, (_, n) => send(socket, room.id, `inflight-${n}`));
    const disconnected = nextEvent<string>(socket, 'disconnect', 10_000);

    const signalledAt = Date.now();
    proc.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still running 10 s after SIGTERM:\n${output.join('\n')}`)), 10_000);
      proc.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });

    expect(code, output.join('\n')).to.equal(0);
    expect(Date.now() - signalledAt).to.be.below(10_000);
    await disconnected;
    const acked = (await Promise.all(sends)).flatMap((o) => (o.kind === 'ok' ? [o.message.id] : []));
    const storedIds = new Set((await storedSeqs(room.id)).map((m) => m.id));
    if (environment.get().services.databaseUrl) for (const id of acked) expect(storedIds.has(id)).to.equal(true);
  });
});
