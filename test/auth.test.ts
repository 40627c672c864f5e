import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { UserStore } from '../db/stores/user-store.js';
import type { AuthResponse, RefreshResponse, SessionRevokedEvent } from '../server/protocol.js';
import { environment } from './support/environment.js';
import { createMigratedDatabase } from './support/services.js';
import { connect, http, nextEvent, registerUser, sleep, startNode, uniqueName, useNode } from './support/util.js';

const SECRET = 'auth-test-secret-long-enough-for-hs256-signing';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The refresh cookie a response sets, with its attributes. */
function refreshCookie(headers: Headers): { value: string; attributes: string[] } | null {
  const line = headers.getSetCookie().find((c) => c.startsWith('roomcast_refresh='));
  if (!line) return null;
  const [pair, ...attributes] = line.split(';').map((part) => part.trim());
  return { value: decodeURIComponent(pair!.slice('roomcast_refresh='.length)), attributes };
}

function credentials(name = uniqueName()) {
  return { username: name, email: `${name}@example.test`, password: `pw-${name}-secret` };
}

describe('POST /api/auth/register', () => {
  const node = useNode();

  it('when the input is valid, then it answers 201 with the user (email included), an access token and expiresIn', async () => {
    const body = credentials();
    const res = await http<AuthResponse>(node.app, 'POST', '/api/auth/register', { body });
    expect(res.status).to.equal(201);
    expect(res.body.user).to.include({ username: body.username, email: body.email, banned: false });
    expect(res.body.user.id).to.match(/^[0-9a-f-]{36}$/);
    expect(res.body.accessToken).to.be.a('string');
    expect(res.body.expiresIn).to.equal(15 * 60);
  });

  it('when a username or email differs only in letter case, then it answers 409 conflict', async () => {
    const first = credentials();
    expect((await http(node.app, 'POST', '/api/auth/register', { body: first })).status).to.equal(201);

    const sameName = { ...credentials(), username: first.username.toUpperCase() };
    const sameEmail = { ...credentials(), email: first.email.toUpperCase() };
    for (const body of [sameName, sameEmail]) {
      const res = await http(node.app, 'POST', '/api/auth/register', { body });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('conflict');
    }
  });

  it('when username, email or password break the rules, then it answers 400 validation_failed', async () => {
    const bad = [
      { username: 'ab' },
      { username: 'x'.repeat(33) },
      { username: 'has space' },
      { username: 'émile' },
      { email: 'not-an-email' },
      { password: 'short7!' },
      { password: 'p'.repeat(73) },
      // 37 two-byte characters: 37 chars but 74 bytes.
      { password: 'é'.repeat(37) },
      { username: undefined },
      { password: 12345678 },
    ];
    for (const change of bad) {
      const res = await http(node.app, 'POST', '/api/auth/register', { body: { ...credentials(), ...change } });
      expect(res.status, JSON.stringify(change)).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
    }
  });

  it('when a password is measured, then bytes count, not characters (72 bytes pass, 3 three-byte chars pass)', async () => {
    const exactly72 = await http(node.app, 'POST', '/api/auth/register', { body: { ...credentials(), password: 'é'.repeat(36) } });
    const nineBytes = await http(node.app, 'POST', '/api/auth/register', { body: { ...credentials(), password: '€€€' } });
    expect(exactly72.status).to.equal(201);
    expect(nineBytes.status).to.equal(201);
  });

  it('when BCRYPT_COST is set, then a new account\'s password is stored as a bcrypt hash of that cost and signs in', async () => {
    const app = await startNode({ BCRYPT_COST: '5' });
    const body = credentials();
    const res = await http<AuthResponse>(app, 'POST', '/api/auth/register', { body });
    expect(res.status).to.equal(201);
    const row = await environment.get().database.knex('users').where({ id: res.body.user.id }).first('password_hash');
    expect(row?.password_hash).to.match(/^\$2[aby]\$05\$/);
    const login = await http<AuthResponse>(app, 'POST', '/api/auth/login', { body: { login: body.username, password: body.password } });
    expect(login.status).to.equal(200);
  });

  it('when registration is closed, then it answers 403 registration_closed', async () => {
    const closed = await startNode({ REGISTRATION: 'closed' });
    const res = await http(closed, 'POST', '/api/auth/register', { body: credentials() });
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal('registration_closed');
  });
});

describe('UserStore.create on a fresh database (first user rule)', () => {
  let database: Database;

  before(async function () {
    this.timeout(60_000);
    const { services } = environment.get();
    const url = services.databaseUrl ? await createMigratedDatabase(services) : null;
    database = openDatabase({ url, dataDir: null, poolSize: 5 });
    await migrateToLatest(database);
  });
  after(async () => {
    await database?.close();
  });

  it('when several users register at once on an empty database, then exactly one becomes admin', async () => {
    const users = new UserStore(database.knex);
    const created = await Promise.all(
      [1, 2, 3, 4, 5].map(() => {
        const c = credentials();
        return users.create({ username: c.username, email: c.email, passwordHash: 'x' });
      }),
    );
    expect(created.filter((u) => u.role === 'admin')).to.have.length(1);
    const later = await users.create({ ...credentials(), passwordHash: 'x' });
    expect(later.role).to.equal('member');
  });
});

describe('POST /api/auth/login', () => {
  const node = useNode();

  it('when the login is the username or the email in any letter case, then it answers 200 with a session', async () => {
    const alice = await registerUser(node.app);
    for (const login of [alice.user.username.toUpperCase(), alice.user.email!.toUpperCase(), alice.user.username]) {
      const res = await http<AuthResponse>(node.app, 'POST', '/api/auth/login', { body: { login, password: alice.password } });
      expect(res.status, login).to.equal(200);
      expect(res.body.user.id).to.equal(alice.user.id);
      expect(res.body.accessToken).to.be.a('string');
    }
  });

  it('when the login is unknown or the password wrong, then the status and body are identical invalid_credentials', async () => {
    const alice = await registerUser(node.app);
    const unknown = await http(node.app, 'POST', '/api/auth/login', { body: { login: uniqueName('nobody'), password: 'whatever-password' } });
    const wrong = await http(node.app, 'POST', '/api/auth/login', { body: { login: alice.user.username, password: 'whatever-password' } });
    expect(unknown.status).to.equal(401);
    expect(unknown.body.error.code).to.equal('invalid_credentials');
    expect(wrong.status).to.equal(unknown.status);
    expect(wrong.body).to.deep.equal(unknown.body);
  });

  it('when in browser mode, then the refresh token is only in a HttpOnly, Secure, SameSite=Strict cookie on /api/auth', async () => {
    const alice = await registerUser(node.app);
    const res = await http<AuthResponse>(node.app, 'POST', '/api/auth/login', { body: { login: alice.user.username, password: alice.password } });
    expect(res.status).to.equal(200);
    expect(res.body).to.not.have.property('refreshToken');
    const cookie = refreshCookie(res.headers);
    expect(cookie, 'roomcast_refresh cookie').to.not.equal(null);
    expect(cookie!.value).to.have.length.greaterThan(20);
    const attributes = cookie!.attributes.map((a) => a.toLowerCase());
    expect(attributes).to.include.members(['httponly', 'secure', 'samesite=strict', 'path=/api/auth']);
  });

  it('when in native mode, then the body carries the refresh token and no cookie is set', async () => {
    const alice = await registerUser(node.app);
    const res = await http<AuthResponse>(node.app, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: alice.password, client: 'native' },
    });
    expect(res.status).to.equal(200);
    expect(res.body.refreshToken).to.be.a('string');
    expect(refreshCookie(res.headers)).to.equal(null);
  });

  it('when a login has used up its failures, then even the right password answers 429 rate_limited with Retry-After', async () => {
    const limited = await startNode({ LOGIN_FAILURE_LIMIT: '3' });
    const alice = await registerUser(limited);
    for (let i = 0; i < 3; i++) {
      const res = await http(limited, 'POST', '/api/auth/login', { body: { login: alice.user.username, password: 'wrong-password' } });
      expect(res.status).to.equal(401);
    }
    const res = await http(limited, 'POST', '/api/auth/login', { body: { login: alice.user.username, password: alice.password } });
    expect(res.status).to.equal(429);
    expect(res.body.error.code).to.equal('rate_limited');
    expect(Number(res.headers.get('retry-after'))).to.be.greaterThan(0);
  });

  it('when one IP has used up its failures on other logins, then a fresh login from it is rate_limited too', async () => {
    const limited = await startNode({ LOGIN_FAILURE_LIMIT: '3' });
    const alice = await registerUser(limited);
    for (let i = 0; i < 3; i++) {
      const res = await http(limited, 'POST', '/api/auth/login', { body: { login: uniqueName('nobody'), password: 'wrong-password' } });
      expect(res.status).to.equal(401);
    }
    const res = await http(limited, 'POST', '/api/auth/login', { body: { login: alice.user.username, password: alice.password } });
    expect(res.status).to.equal(429);
    expect(res.body.error.code).to.equal('rate_limited');
  });
});

describe('POST /api/auth/refresh and /api/auth/logout', () => {
  const node = useNode();

  const refresh = (token: string) => http<RefreshResponse>(node.app, 'POST', '/api/auth/refresh', { body: { refreshToken: token } });

  it('when a native refresh token is used, then a new one works, the old one answers refresh_reused, and that revokes the new one', async () => {
    const alice = await registerUser(node.app);
    const first = await refresh(alice.refreshToken);
    expect(first.status).to.equal(200);
    expect(first.body.refreshToken).to.be.a('string').and.not.equal(alice.refreshToken);
    const me = await http(node.app, 'GET', '/api/me', { token: first.body.accessToken });
    expect(me.status).to.equal(200);

    const second = await refresh(first.body.refreshToken!);
    expect(second.status).to.equal(200);

    const reused = await refresh(first.body.refreshToken!);
    expect(reused.status).to.equal(401);
    expect((reused.body as unknown as { error: { code: string } }).error.code).to.equal('refresh_reused');

    const revoked = await refresh(second.body.refreshToken!);
    expect(revoked.status).to.equal(401);
  });

  it('when the cookie carries the token (browser mode), then refresh rotates the cookie and keeps the token out of the body', async () => {
    const body = credentials();
    const registered = await http(node.app, 'POST', '/api/auth/register', { body });
    const cookie = refreshCookie(registered.headers)!;
    const res = await http<RefreshResponse>(node.app, 'POST', '/api/auth/refresh', { headers: { cookie: `roomcast_refresh=${cookie.value}` } });
    expect(res.status).to.equal(200);
    expect(res.body.accessToken).to.be.a('string');
    expect(res.body).to.not.have.property('refreshToken');
    const next = refreshCookie(res.headers);
    expect(next!.value).to.not.equal(cookie.value);
  });

  it('when two refreshes with the same token race, then exactly one answers 200 and the family ends up revoked', async () => {
    for (let round = 0; round < 5; round++) {
      const alice = await registerUser(node.app);
      const results = await Promise.all([refresh(alice.refreshToken), refresh(alice.refreshToken)]);
      const winners = results.filter((r) => r.status === 200);
      expect(winners, `round ${round}: ${results.map((r) => r.status).join(',')}`).to.have.length(1);
      const loser = results.find((r) => r.status !== 200)!;
      expect(loser.status).to.equal(401);
      // A token presented twice ends its whole family, the winner's new token included.
      const afterwards = await refresh(winners[0]!.body.refreshToken!);
      expect(afterwards.status, `round ${round}: the new token must be revoked too`).to.equal(401);
    }
  });

  it('when a user logs out, then it answers 204, the token no longer refreshes, and that login’s sockets get session:revoked', async () => {
    const alice = await registerUser(node.app);
    const otherLogin = await http<AuthResponse>(node.app, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: alice.password, client: 'native' },
    });
    const socket = await connect(node.app, { token: alice.accessToken });
    const otherSocket = await connect(node.app, { token: otherLogin.body.accessToken });
    const revoked = nextEvent<SessionRevokedEvent>(socket, 'session:revoked');
    const disconnected = nextEvent<string>(socket, 'disconnect');

    const res = await http(node.app, 'POST', '/api/auth/logout', { body: { refreshToken: alice.refreshToken } });

    expect(res.status).to.equal(204);
    expect(await revoked).to.deep.equal({ reason: 'logout' });
    expect(await disconnected).to.equal('io server disconnect');
    expect((await refresh(alice.refreshToken)).status).to.equal(401);
    // Another login of the same user is a different session: it stays.
    await sleep(100);
    expect(otherSocket.connected).to.equal(true);
    expect((await refresh(otherLogin.body.refreshToken!)).status).to.equal(200);
  });

  it('when a browser logs out with its cookie, then it answers 204 and clears the cookie, and the token is dead', async () => {
    const registered = await http(node.app, 'POST', '/api/auth/register', { body: credentials() });
    const cookie = refreshCookie(registered.headers)!;
    const headers = { cookie: `roomcast_refresh=${cookie.value}` };
    const res = await http(node.app, 'POST', '/api/auth/logout', { headers });
    expect(res.status).to.equal(204);
    const cleared = refreshCookie(res.headers);
    expect(cleared?.value).to.equal('');
    expect(cleared!.attributes.map((a) => a.toLowerCase())).to.include('path=/api/auth');
    expect((await http(node.app, 'POST', '/api/auth/refresh', { headers })).status).to.equal(401);
  });

  it('when no refresh token is presented, then it answers 401 unauthorized', async () => {
    const res = await http(node.app, 'POST', '/api/auth/refresh', { body: {} });
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal('unauthorized');
  });
});

describe('GET /api/me', () => {
  const node = useNode({ JWT_SECRET: SECRET });

  it('when the token is valid, then it answers the user with their email', async () => {
    const alice = await registerUser(node.app);
    const res = await http(node.app, 'GET', '/api/me', { token: alice.accessToken });
    expect(res.status).to.equal(200);
    expect(res.body.user).to.include({ id: alice.user.id, email: alice.user.email });
  });

  it('when there is no token, then it answers 401 unauthorized', async () => {
    const res = await http(node.app, 'GET', '/api/me');
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal('unauthorized');
  });

  it('when the token expired, then it answers 401 token_expired', async () => {
    const shortLived = await startNode({ ACCESS_TOKEN_TTL: '1' });
    const alice = await registerUser(shortLived);
    await sleep(2_100);
    const res = await http(shortLived, 'GET', '/api/me', { token: alice.accessToken });
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal('token_expired');
  });

  it('when the token is forged (alg none, wrong key, wrong iss or aud, role altered), then it answers 401 unauthorized', async () => {
    const alice = await registerUser(node.app);
    const claims = jwt.decode(alice.accessToken) as jwt.JwtPayload;
    const { iat: _iat, exp: _exp, ...base } = claims;
    const [header, , signature] = alice.accessToken.split('.');
    const forged = {
      algNone: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`,
      wrongKey: jwt.sign(base, 'another-secret-that-is-long-enough-for-hs256', { algorithm: 'HS256', expiresIn: 60 }),
      wrongIssuer: jwt.sign({ ...base, iss: 'evil' }, SECRET, { algorithm: 'HS256', expiresIn: 60 }),
      wrongAudience: jwt.sign({ ...base, aud: 'evil' }, SECRET, { algorithm: 'HS256', expiresIn: 60 }),
      roleAltered: `${header}.${b64url({ ...claims, role: 'admin' })}.${signature}`,
      garbage: 'not.a.token',
    };
    // The control: the same claims signed with the node's key pass.
    const genuine = jwt.sign(base, SECRET, { algorithm: 'HS256', expiresIn: 60 });
    expect((await http(node.app, 'GET', '/api/me', { token: genuine })).status).to.equal(200);
    for (const [kind, token] of Object.entries(forged)) {
      const res = await http(node.app, 'GET', '/api/me', { token });
      expect(res.status, kind).to.equal(401);
      expect(res.body.error.code, kind).to.equal('unauthorized');
    }
  });
});

describe('HTTP edge cases', () => {
  const node = useNode();

  it('when a body is larger than MAX_PACKET_BYTES, then it answers 413 payload_too_large', async () => {
    const res = await http(node.app, 'POST', '/api/auth/register', { body: { ...credentials(), filler: 'x'.repeat(70_000) } });
    expect(res.status).to.equal(413);
    expect(res.body.error.code).to.equal('payload_too_large');
  });

  it('when the body is malformed JSON, then it answers 400 validation_failed', async () => {
    const res = await http(node.app, 'POST', '/api/auth/login', { body: '{"login": "x", ' });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('validation_failed');
  });

  it('when the route is unknown, then it answers 404 not_found as JSON', async () => {
    for (const route of ['/api/nope', '/nowhere']) {
      const res = await http(node.app, 'GET', route);
      expect(res.status, route).to.equal(404);
      expect(res.headers.get('content-type')).to.match(/application\/json/);
      expect(res.body.error.code).to.equal('not_found');
    }
  });
});
