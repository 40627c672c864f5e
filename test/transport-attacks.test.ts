// Issue 20 "attacked from outside", the transport part: what a client that
// speaks broken, slow or rebinding HTTP gets from a node with default
// settings (or the one setting a test names). Loopback only, bounded waits.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Ack } from '../server/protocol.js';
import { closeAll, connect, createRoom, http, ok, registerAdmin, registerUser, sleep, startNode, useNode, usersWithRoom, type AdminClient } from './support/util.js';

const portOf = (app: RoomcastApp) => Number(new URL(app.url()).port);

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with headers fetch() would not send as given (Host, Content-Encoding with a raw body). */
function rawRequest(app: RoomcastApp, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: portOf(app), method, path, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw TCP connection to the node, connected. */
function openTcp(app: RoomcastApp): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(portOf(app), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves true when the server ends the connection within `ms`, false if it is still open then. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once('close', done);
    socket.once('end', done);
    socket.on('error', () => {});
    socket.resume();
  });
}

describe('transport attacks: unreadable bodies', () => {
  const node = useNode();

  const login = Buffer.from(JSON.stringify({ login: 'nobody-here', password: 'wrong-password' }));
  const corrupt: [string, Buffer][] = [
    ['gzip', Buffer.from('this is not gzip at all')],
    ['gzip', gzipSync(login).subarray(0, 20)],
    ['deflate', Buffer.from('nor is this deflate')],
    ['br', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01])],
    ['br', brotliCompressSync(login).subarray(0, 5)],
  ];

  for (const [encoding, body] of corrupt) {
    it(`when a ${encoding} body is corrupt (${body.length} bytes), then the answer is 400 validation_failed, not 500`, async () => {
      const res = await rawRequest(node.app, 'POST', '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': String(body.length) }, body);
      expect(res.status, res.body).to.equal(400);
      expect(JSON.parse(res.body).error.code).to.equal('validation_failed');
      expect(res.body).not.to.match(/Z_|zlib|at .*\.js/i);
    });
  }

  it('when a compressed body is well-formed, then it is read as usual', async () => {
    for (const [encoding, body] of [['gzip', gzipSync(login)], ['deflate', deflateSync(login)], ['br', brotliCompressSync(login)]] as const) {
      const res = await rawRequest(node.app, 'POST', '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': String(body.length) }, body);
      expect(res.status, encoding).to.equal(401);
      expect(JSON.parse(res.body).error.code).to.equal('invalid_credentials');
    }
  });
});

describe('transport attacks: unknown socket events', () => {
  const node = useNode();

  it('when a /chat client emits an event the namespace does not have, with an ack, then the ack answers validation_failed at once', async () => {
    const { room, sockets: [socket] } = await usersWithRoom([node.app]);
    const raw = socket as unknown as { timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<Ack> } };
    for (const event of ['no:such:event', 'admin:stats', 'error', '__proto__', 'constructor', 'hasOwnProperty']) {
      const started = Date.now();
      const ack = await raw.timeout(2_000).emitWithAck(event, { roomId: room.id }).catch((err: Error) => { throw new Error(`${event}: ${err.message}`); });
      expect(ack, event).to.deep.include({ ok: false });
      expect(ack.ok === false && ack.error.code, event).to.equal('validation_failed');
      expect(Date.now() - started, event).to.be.below(1_000);
    }
    const noPayload = await raw.timeout(2_000).emitWithAck('no:such:event');
    expect(noPayload.ok).to.equal(false);
    expect(socket.connected).to.equal(true);
    await ok(socket, 'room:join', { roomId: room.id });
  });

  it('when an /admin client emits an event the namespace does not have, with an ack, then the ack answers validation_failed at once', async () => {
    const admin = await registerAdmin(node.app);
    const socket = await connect<AdminClient>(node.app, { token: admin.accessToken, namespace: '/admin' });
    const raw = socket as unknown as { timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<Ack> } };
    for (const event of ['room:join', 'admin:nothing']) {
      const ack = await raw.timeout(2_000).emitWithAck(event, {});
      expect(ack.ok === false && ack.error.code, event).to.equal('validation_failed');
    }
    await ok(socket, 'admin:stats', {});
  });
});

describe('transport attacks: slow clients', () => {
  afterEach(closeAll);

  it('when a client trickles a request body, then the node answers 408 and closes it once HTTP_REQUEST_TIMEOUT_MS has passed', async function () {
    this.timeout(15_000);
    const app = await startNode({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' });
    const socket = await openTcp(app);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write('POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const closed = closedWithin(socket, 6_000);
    // One byte every 100 ms: always "active", never done.
    const trickle = setInterval(() => socket.writable && socket.write(' '), 100);
    try {
      expect(await closed, 'the connection is still open after 6 s').to.equal(true);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    expect(Buffer.concat(received).toString('latin1')).to.match(/^HTTP\/1\.1 408/);
  });

  it('when a client trickles its headers, then the node closes it once HTTP_HEADERS_TIMEOUT_MS has passed', async function () {
    this.timeout(15_000);
    const app = await startNode({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' });
    const socket = await openTcp(app);
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const closed = closedWithin(socket, 6_000);
    let n = 0;
    const trickle = setInterval(() => socket.writable && socket.write(`X-Slow-${n++}: 1\r\n`), 100);
    try {
      expect(await closed, 'the connection is still open after 6 s').to.equal(true);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it('when the request timeout is short, then open websockets and held polls still outlive it', async function () {
    this.timeout(15_000);
    const app = await startNode({ HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' });
    const alice = await registerUser(app);
    const room = await createRoom(app, alice.accessToken);
    const websocket = await connect(app, { token: alice.accessToken, transports: ['websocket'] });
    const polling = await connect(app, { token: alice.accessToken, transports: ['polling'] });
    await sleep(2_500);
    expect(websocket.connected && polling.connected).to.equal(true);
    await ok(websocket, 'room:join', { roomId: room.id });
    await ok(polling, 'room:join', { roomId: room.id });
  });

  it('when one address opens more than MAX_CONNECTIONS_PER_IP connections, then the extra ones are closed at once and a freed slot is usable', async () => {
    // TRUST_PROXY=none: loopback is then a client like any other (trusted proxies are exempt).
    const app = await startNode({ MAX_CONNECTIONS_PER_IP: '5', TRUST_PROXY: 'none' });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) held.push(await openTcp(app));
      const extra = await openTcp(app);
      held.push(extra);
      expect(await closedWithin(extra, 2_000), 'the 6th connection was kept').to.equal(true);
      expect(await closedWithin(held[0]!, 200), 'a connection under the cap was closed').to.equal(false);

      held[0]!.destroy();
      await sleep(200);
      const res = await rawRequest(app, 'GET', '/healthz', { connection: 'close' });
      expect(res.status).to.equal(200);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });

  it('when the connections come from a trusted proxy (loopback by default), then the per-address cap does not apply to them', async () => {
    const app = await startNode({ MAX_CONNECTIONS_PER_IP: '2' });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) held.push(await openTcp(app));
      expect(await closedWithin(held[3]!, 500)).to.equal(false);
      expect((await rawRequest(app, 'GET', '/healthz', { connection: 'close' })).status).to.equal(200);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});

describe('transport attacks: DNS rebinding (no CORS_ORIGINS)', () => {
  const node = useNode();

  it('when a request carries a foreign Host and the matching Origin, then REST answers 403 and registers nobody', async () => {
    const host = `rebind.example:${portOf(node.app)}`;
    const username = `rebind_${Date.now()}`;
    const body = Buffer.from(JSON.stringify({ username, email: `${username}@example.test`, password: 'rebinding-password' }));
    const res = await rawRequest(node.app, 'POST', '/api/auth/register', { host, origin: `http://${host}`, 'content-type': 'application/json', 'content-length': String(body.length) }, body);
    expect(res.status, res.body).to.equal(403);
    expect(JSON.parse(res.body).error.code).to.equal('forbidden');
    expect(res.headers['access-control-allow-origin']).to.equal(undefined);
    const login = await http(node.app, 'POST', '/api/auth/login', { body: { login: username, password: 'rebinding-password' } });
    expect(login.status).to.equal(401);
  });

  it('when a Socket.IO handshake carries a foreign Host and the matching Origin, then both transports are refused with 403', async () => {
    const host = `rebind.example:${portOf(node.app)}`;
    const polling = await rawRequest(node.app, 'GET', '/socket.io/?EIO=4&transport=polling', { host, origin: `http://${host}` });
    expect(polling.status).to.equal(403);
    const upgrade = await rawRequest(node.app, 'GET', '/socket.io/?EIO=4&transport=websocket', {
      host,
      origin: `http://${host}`,
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    });
    expect(upgrade.status).to.equal(403);
  });

  it('when the Origin is a loopback origin on the node’s own port, then it passes', async () => {
    const port = portOf(node.app);
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`]) {
      const res = await rawRequest(node.app, 'GET', '/api/me', { host: `attacker.example:${port}`, origin });
      expect(res.status, origin).to.equal(401);
      expect(res.headers['access-control-allow-origin'], origin).to.equal(origin);
    }
    const otherPort = await rawRequest(node.app, 'GET', '/api/me', { origin: `http://localhost:${port + 1}` });
    expect(otherPort.status).to.equal(403);
  });
});

describe('transport attacks: X-Forwarded-For and TRUST_PROXY', () => {
  afterEach(closeAll);

  /** Three failed logins, each for another login from another claimed address; the codes answered. */
  async function failuresWithForgedAddresses(app: RoomcastApp): Promise<string[]> {
    const codes: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const res = await http(app, 'POST', '/api/auth/login', {
        body: { login: `nobody_${Date.now()}_${i}`, password: 'wrong-password' },
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      });
      codes.push(res.body.error.code);
    }
    return codes;
  }

  it('when TRUST_PROXY does not list the sender, then its X-Forwarded-For is ignored and the per-IP login limit holds', async () => {
    const app = await startNode({ LOGIN_FAILURE_LIMIT: '2', TRUST_PROXY: '10.9.8.7' });
    expect(await failuresWithForgedAddresses(app)).to.deep.equal(['invalid_credentials', 'invalid_credentials', 'rate_limited']);
  });

  it('when TRUST_PROXY is none, then X-Forwarded-For is ignored even from loopback', async () => {
    const app = await startNode({ LOGIN_FAILURE_LIMIT: '2', TRUST_PROXY: 'none' });
    expect(await failuresWithForgedAddresses(app)).to.deep.equal(['invalid_credentials', 'invalid_credentials', 'rate_limited']);
  });

  it('when the sender is a trusted proxy (loopback by default), then X-Forwarded-For names the client', async () => {
    const app = await startNode({ LOGIN_FAILURE_LIMIT: '2' });
    expect(await failuresWithForgedAddresses(app)).to.deep.equal(['invalid_credentials', 'invalid_credentials', 'invalid_credentials']);
  });
});
