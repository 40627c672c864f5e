import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { refusedWithStatus } from '../client-sdk/src/connection.js';
import type { RoomcastApp } from '../server/app.js';
import { environment } from './support/environment.js';
import { connect, http, registerAdmin, registerUser, startNode, useNode, type ConnectOptions } from './support/util.js';

const SECRET = 'handshake-test-secret-long-enough-for-hs256';

interface ConnectError extends Error {
  data?: { code?: string };
}

/** The connect_error a handshake ends in (fails the test if it connects). */
async function refusal(app: RoomcastApp, options: ConnectOptions): Promise<ConnectError> {
  try {
    const socket = await connect(app, options);
    socket.disconnect();
  } catch (err) {
    return err as ConnectError;
  }
  throw new Error('the handshake was accepted');
}

async function expectRefused(app: RoomcastApp, options: ConnectOptions, code: string): Promise<void> {
  const err = await refusal(app, options);
  expect(err.message).to.equal(code);
  expect(err.data).to.deep.equal({ code });
}

describe('/chat and /admin handshake', () => {
  const node = useNode({ JWT_SECRET: SECRET });

  it('when there is no token or a garbage one, then connect_error is unauthorized', async () => {
    await expectRefused(node.app, {}, 'unauthorized');
    await expectRefused(node.app, { token: 'garbage' }, 'unauthorized');
    await expectRefused(node.app, { token: jwt.sign({ sub: 'x' }, 'some-other-secret-of-enough-length-for-it') }, 'unauthorized');
  });

  it('when the token expired, then connect_error is token_expired', async () => {
    const alice = await registerUser(node.app);
    const claims = jwt.decode(alice.accessToken) as jwt.JwtPayload;
    const expired = jwt.sign({ ...claims, iat: claims.iat! - 3600, exp: Math.floor(Date.now() / 1000) - 10 }, SECRET, { algorithm: 'HS256' });
    await expectRefused(node.app, { token: expired }, 'token_expired');
  });

  it('when the user is banned, then connect_error is banned', async () => {
    const alice = await registerUser(node.app);
    await environment.get().database.knex('users').where({ id: alice.user.id }).update({ banned: true });
    await expectRefused(node.app, { token: alice.accessToken }, 'banned');
  });

  it('when a member connects to /admin, then connect_error is forbidden; an admin is let in', async () => {
    const admin = await registerAdmin(node.app);
    const member = await registerUser(node.app);
    await expectRefused(node.app, { token: member.accessToken, namespace: '/admin' }, 'forbidden');
    const socket = await connect(node.app, { token: admin.accessToken, namespace: '/admin' });
    expect(socket.connected).to.equal(true);
  });

  it('when the login the token belongs to has logged out, then connect_error is unauthorized', async () => {
    const alice = await registerUser(node.app);
    expect((await http(node.app, 'POST', '/api/auth/logout', { body: { refreshToken: alice.refreshToken } })).status).to.equal(204);
    await expectRefused(node.app, { token: alice.accessToken }, 'unauthorized');
  });

  it('when the token comes in an Authorization Bearer header, then the handshake is accepted', async () => {
    const alice = await registerUser(node.app);
    const socket = await connect(node.app, { transports: ['polling'], extraHeaders: { authorization: `Bearer ${alice.accessToken}` } });
    expect(socket.connected).to.equal(true);
  });
});

describe('origin allow-list', () => {
  const ALLOWED = 'http://allowed.example';
  const node = useNode({ CORS_ORIGINS: ALLOWED });

  const foreign = ['http://evil.example', 'null', 'http://allowed.example.evil.com', 'https://allowed.example', 'http://allowed.exampl'];

  for (const transport of ['polling', 'websocket'] as const) {
    it(`when a ${transport} handshake comes from an origin not exactly on the list, then it is refused`, async () => {
      const alice = await registerUser(node.app);
      for (const origin of foreign) {
        const err = await refusal(node.app, { token: alice.accessToken, transports: [transport], extraHeaders: { origin } });
        expect(err, origin).to.be.instanceOf(Error);
      }
    });

    it(`when a ${transport} handshake comes from the allowed origin or with no Origin, then it is accepted`, async () => {
      const alice = await registerUser(node.app);
      const withOrigin = await connect(node.app, { token: alice.accessToken, transports: [transport], extraHeaders: { origin: ALLOWED } });
      const withoutOrigin = await connect(node.app, { token: alice.accessToken, transports: [transport] });
      expect(withOrigin.connected && withoutOrigin.connected).to.equal(true);
    });
  }

  it('when the polling handshake is refused for its origin, then the engine answers 403 before any session exists', async () => {
    for (const origin of foreign) {
      const res = await fetch(`${node.app.url()}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
      expect(res.status, origin).to.equal(403);
      await res.text();
    }
    const allowed = await fetch(`${node.app.url()}/socket.io/?EIO=4&transport=polling`, { headers: { origin: ALLOWED } });
    expect(allowed.status).to.equal(200);
    await allowed.text();
  });

  it('when a handshake is refused for its origin, then both transports say HTTP 403 (no connect_error code) and the SDK reads that as final', async () => {
    const alice = await registerUser(node.app);
    for (const transport of ['polling', 'websocket'] as const) {
      const err = await refusal(node.app, { token: alice.accessToken, transports: [transport], extraHeaders: { origin: 'http://evil.example' } });
      expect(err.data, transport).to.equal(undefined);
      expect(refusedWithStatus(err), transport).to.equal(403);
    }
    const other = await refusal(node.app, { token: 'garbage', transports: ['websocket'] });
    expect(refusedWithStatus(other)).to.equal(undefined);
  });

  it('when a REST request carries a foreign Origin, then it answers 403 forbidden; the allowed one gets CORS headers', async () => {
    const alice = await registerUser(node.app);
    for (const origin of foreign) {
      const res = await http(node.app, 'GET', '/api/me', { token: alice.accessToken, headers: { origin } });
      expect(res.status, origin).to.equal(403);
      expect(res.body.error.code).to.equal('forbidden');
    }
    const allowed = await http(node.app, 'GET', '/api/me', { token: alice.accessToken, headers: { origin: ALLOWED } });
    expect(allowed.status).to.equal(200);
    expect(allowed.headers.get('access-control-allow-origin')).to.equal(ALLOWED);
  });

  it('when no list is configured, then only the server’s own origin passes', async () => {
    const plain = await startNode();
    const own = await http(plain, 'GET', '/api/me', { headers: { origin: plain.url() } });
    const other = await http(plain, 'GET', '/api/me', { headers: { origin: 'http://evil.example' } });
    expect(own.status).to.equal(401);
    expect(other.status).to.equal(403);
  });
});
