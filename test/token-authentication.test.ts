// One token check behind every entry point: for each state a token can be in,
// REST, the /chat and /admin handshakes and auth:refresh must give the same
// answer. Each entry point is asked over the real wire.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import type { RoomcastApp } from '../server/app.js';
import { login } from './support/admin.js';
import { environment } from './support/environment.js';
import {
  closeAll,
  connect,
  http,
  issuedSecrets,
  registerAdmin,
  registerUser,
  request,
  startNode,
  useNode,
  type ChatClient,
  type TestUser,
} from './support/util.js';

const SECRET = 'token-authentication-test-secret-long-enough';

/** What an entry point answered: `ok`, or the error code. */
type Answer = 'ok' | 'unauthorized' | 'token_expired' | 'banned' | 'forbidden';

interface Answers {
  /** GET /api/me and GET /api/rooms (the signed-in REST check). */
  me: string;
  rooms: string;
  chatHandshake: string;
  /** auth:refresh on an open /chat socket of the token's user (another user's for a token of no user). */
  refresh: string;
  /** GET /api/admin/users (the admin-only REST check). */
  adminRest: string;
  adminHandshake: string;
}

/** A second login of the user (its own refresh family), so logging out the first leaves it alone. */
async function secondLogin(app: RoomcastApp, user: TestUser): Promise<string> {
  const res = await login(app, user.user.username, user.password);
  if (res.status !== 200) throw new Error(`second login failed: ${res.status}`);
  issuedSecrets.add(res.body.refreshToken!);
  return res.body.accessToken;
}

/** A member even when it is the run's first user (who becomes admin): the role is read from the database. */
async function registerMember(app: RoomcastApp): Promise<TestUser> {
  const member = await registerUser(app);
  await environment.get().database.knex('users').where({ id: member.user.id }).update({ role: 'member' });
  return member;
}

const claimsOf = (token: string) => {
  const { iat: _iat, exp: _exp, ...claims } = jwt.decode(token) as jwt.JwtPayload;
  return claims;
};

async function restAnswer(app: RoomcastApp, route: string, token: string | null): Promise<string> {
  const res = await http(app, 'GET', route, token ? { token } : {});
  return res.status === 200 ? 'ok' : `${res.status} ${res.body?.error?.code}`;
}

async function handshakeAnswer(app: RoomcastApp, namespace: '/chat' | '/admin', token: string | null): Promise<string> {
  try {
    const socket = await connect(app, { namespace, ...(token ? { token } : {}) });
    socket.disconnect();
    return 'ok';
  } catch (err) {
    const { message, data } = err as Error & { data?: { code?: string } };
    // The contract: message and data.code are the same code.
    return message === data?.code ? message : `${message} / ${String(data?.code)}`;
  }
}

async function refreshAnswer(socket: ChatClient, token: string): Promise<string> {
  const ack = await request(socket, 'auth:refresh', { token });
  return ack.ok ? 'ok' : ack.error.code;
}

async function answersFor(app: RoomcastApp, token: string | null, openSocket: ChatClient): Promise<Answers> {
  const [me, rooms, adminRest, chatHandshake, adminHandshake] = await Promise.all([
    restAnswer(app, '/api/me', token),
    restAnswer(app, '/api/rooms', token),
    restAnswer(app, '/api/admin/users?limit=1', token),
    handshakeAnswer(app, '/chat', token),
    handshakeAnswer(app, '/admin', token),
  ]);
  // auth:refresh has no "no token": its payload would be malformed (validation_failed).
  const refresh = token ? await refreshAnswer(openSocket, token) : NOT_ASKED;
  return { me, rooms, chatHandshake, refresh, adminRest, adminHandshake };
}

const NOT_ASKED = 'not asked';

const STATUS: Record<Answer, string> = {
  ok: 'ok',
  unauthorized: '401 unauthorized',
  token_expired: '401 token_expired',
  banned: '403 banned',
  forbidden: '403 forbidden',
};

/** The one answer every signed-in entry point gives, and the one every admin-only entry point gives. */
function expected(user: Answer, admin: Answer): Answers {
  return { me: STATUS[user], rooms: STATUS[user], chatHandshake: user, refresh: user, adminRest: STATUS[admin], adminHandshake: admin };
}

/** Logs the holder's first login out; its access token is the one under test. */
async function loggedOut(app: RoomcastApp, holder: TestUser): Promise<string> {
  const res = await http(app, 'POST', '/api/auth/logout', { body: { refreshToken: holder.refreshToken } });
  if (res.status !== 204) throw new Error(`logout failed: ${res.status}`);
  return holder.accessToken;
}

interface TokenState {
  name: string;
  role: 'member' | 'admin';
  /** Puts the holder's token into the state; runs after the holder's socket is open. */
  token(app: RoomcastApp, holder: TestUser): Promise<string | null>;
  answers: Answers;
}

const STATES: TokenState[] = [
  { name: 'valid (a member)', role: 'member', token: async (_app, holder) => holder.accessToken, answers: expected('ok', 'forbidden') },
  { name: 'valid (an admin)', role: 'admin', token: async (_app, holder) => holder.accessToken, answers: expected('ok', 'ok') },
  { name: 'missing', role: 'admin', token: async () => null, answers: { ...expected('unauthorized', 'unauthorized'), refresh: NOT_ASKED } },
  {
    name: 'expired',
    role: 'admin',
    token: async (_app, holder) =>
      jwt.sign({ ...claimsOf(holder.accessToken), iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 10 }, SECRET, {
        algorithm: 'HS256',
      }),
    answers: expected('token_expired', 'token_expired'),
  },
  {
    name: 'signed with another key',
    role: 'admin',
    token: async (_app, holder) => jwt.sign(claimsOf(holder.accessToken), 'another-secret-that-is-long-enough-for-hs256', { algorithm: 'HS256', expiresIn: 60 }),
    answers: expected('unauthorized', 'unauthorized'),
  },
  { name: 'garbage', role: 'admin', token: async () => 'not.a.token', answers: expected('unauthorized', 'unauthorized') },
  {
    name: 'of a user that does not exist (signed with the secret)',
    role: 'admin',
    token: async (_app, holder) => jwt.sign({ ...claimsOf(holder.accessToken), sub: randomUUID() }, SECRET, { algorithm: 'HS256', expiresIn: 60 }),
    answers: expected('unauthorized', 'unauthorized'),
  },
  {
    name: 'of a banned user',
    role: 'admin',
    token: async (_app, holder) => {
      // Straight in the database: only the ban itself, no revoked logins or ended sockets.
      await environment.get().database.knex('users').where({ id: holder.user.id }).update({ banned: true });
      return holder.accessToken;
    },
    answers: expected('banned', 'banned'),
  },
  { name: 'of a logged-out login (an admin)', role: 'admin', token: loggedOut, answers: expected('unauthorized', 'unauthorized') },
  // Not an admin whatever the login: the role answer comes before the login's.
  { name: 'of a logged-out login (a member)', role: 'member', token: loggedOut, answers: expected('unauthorized', 'forbidden') },
];

describe('token authentication: every entry point answers alike', () => {
  const node = useNode({ JWT_SECRET: SECRET });

  for (const state of STATES) {
    it(`when the token is ${state.name}, then REST, both handshakes and auth:refresh give the same answer`, async () => {
      const holder = state.role === 'admin' ? await registerAdmin(node.app) : await registerMember(node.app);
      // auth:refresh needs an open socket of the user: one of another login, opened before the state is set.
      const openSocket = await connect(node.app, { token: await secondLogin(node.app, holder) });
      const token = await state.token(node.app, holder);

      expect(await answersFor(node.app, token, openSocket)).to.deep.equal(state.answers);
    });
  }
});

describe('token authentication: logout across nodes', () => {
  afterEach(closeAll);

  it('when a login logs out on node A, then node B refuses REST with its access token at once; the user’s other login still works', async () => {
    const [a, b] = await Promise.all([startNode({ JWT_SECRET: SECRET }), startNode({ JWT_SECRET: SECRET })]);
    const alice = await registerUser(a);
    const otherLogin = await secondLogin(a, alice);
    expect((await http(b, 'GET', '/api/me', { token: alice.accessToken })).status).to.equal(200);

    const logout = await http(a, 'POST', '/api/auth/logout', { body: { refreshToken: alice.refreshToken } });

    expect(logout.status).to.equal(204);
    const after = await http(b, 'GET', '/api/me', { token: alice.accessToken });
    expect(after.status).to.equal(401);
    expect(after.body.error.code).to.equal('unauthorized');
    expect((await http(b, 'GET', '/api/rooms', { token: alice.accessToken })).status).to.equal(401);
    expect((await http(b, 'GET', '/api/me', { token: otherLogin })).status).to.equal(200);
  });
});
