// Apps bring their own users: tokens of the app's identity provider (a real
// JWKS HTTP server started here, a PEM public key, or an HS256 secret) sign
// users in on REST, both handshakes and auth:refresh; `sub` per issuer maps
// to a Roomcast user created on first use; keys rotate; forgeries, wrong
// claims and a down JWKS endpoint are handled; the SDK's getToken plugs in.
import { createHmac, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { StateChange } from '../client-sdk/src/index.js';
import type { RoomcastApp } from '../server/app.js';
import type { User } from '../server/protocol.js';
import { IdentityProvider, providerKey, publicJwk, type ProviderKey } from './support/identity-provider.js';
import { closeClients, sdkClient } from './support/sdk.js';
import { closeAll, connect, http, registerUser, request, sleep, startNode, uniqueName, waitFor } from './support/util.js';

const AUDIENCE = 'roomcast-test-app';

/** The answers a token gets: GET /api/me (its username, or the error code), the /chat and /admin handshakes. */
async function answers(app: RoomcastApp, token: string): Promise<{ me: string; chat: string; admin: string }> {
  const me = await http<{ user: User }>(app, 'GET', '/api/me', { token });
  return {
    me: me.status === 200 ? 'ok' : String((me.body as { error?: { code?: string } }).error?.code),
    chat: await handshake(app, '/chat', token),
    admin: await handshake(app, '/admin', token),
  };
}

async function handshake(app: RoomcastApp, namespace: '/chat' | '/admin', token: string): Promise<string> {
  try {
    (await connect(app, { namespace, token })).disconnect();
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

const me = async (app: RoomcastApp, token: string) => (await http<{ user: User }>(app, 'GET', '/api/me', { token })).body.user;

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

const REFUSED = { me: 'unauthorized', chat: 'unauthorized', admin: 'unauthorized' };

describe('external identity: tokens of the app’s identity provider (JWKS)', function () {
  this.timeout(60_000);
  let idp: IdentityProvider;
  let key: ProviderKey;

  beforeEach(async () => {
    idp = await new IdentityProvider(`https://idp-${uniqueName()}.example`, AUDIENCE).start();
    key = idp.add(providerKey('k1'));
  });
  afterEach(async () => {
    closeClients();
    await closeAll();
    await idp.close();
  });

  const node = (env: Record<string, string> = {}) =>
    startNode({ AUTH_JWKS_URL: idp.jwksUrl, AUTH_JWT_ISSUER: idp.issuer, AUTH_JWT_AUDIENCE: AUDIENCE, AUTH_ROLE_CLAIM: 'app.roles', AUTH_JWKS_COOLDOWN_MS: '0', ...env });

  it('when an app token signs in, then REST, /chat, /admin (role claim) and auth:refresh accept it, and its sub maps to one user created on first use', async () => {
    const app = await node();
    const name = uniqueName('ext');
    const member = await idp.token(key, { sub: `sub-${name}`, claims: { preferred_username: name } });
    const admin = await idp.token(key, { sub: `sub-admin-${name}`, claims: { preferred_username: `${name}_a`, app: { roles: ['admin'] } } });

    expect(await answers(app, member)).to.deep.equal({ me: 'ok', chat: 'ok', admin: 'forbidden' });
    expect(await answers(app, admin)).to.deep.equal({ me: 'ok', chat: 'ok', admin: 'ok' });
    const user = await me(app, member);
    expect(user).to.include({ username: name, role: 'member' });
    // The same subject again, from another token: the same user.
    const again = await idp.token(key, { sub: `sub-${name}`, claims: { preferred_username: 'ignored-now' } });
    expect((await me(app, again)).id).to.equal(user.id);
    // auth:refresh on the open socket takes the next token of the app; another subject's is refused.
    const socket = await connect(app, { token: member });
    const renewed = await request<{ expiresIn: number }>(socket, 'auth:refresh', { token: await idp.token(key, { sub: `sub-${name}`, expiresIn: 120 }) });
    expect(renewed.ok && renewed.expiresIn).to.be.within(110, 120);
    const foreign = await request(socket, 'auth:refresh', { token: admin });
    expect(foreign.ok ? 'ok' : foreign.error.code).to.equal('forbidden');
    // A room made with the app's token is the mapped user's.
    const room = await http(app, 'POST', '/api/rooms', { token: member, body: { name: uniqueName('room') } });
    expect(room.status).to.equal(201);
  });

  it('when the first tokens of one subject arrive at two nodes at once, then exactly one user is created for it', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const name = uniqueName('race');
    const tokens = await Promise.all([1, 2, 3, 4, 5, 6].map(() => idp.token(key, { sub: `sub-${name}`, claims: { preferred_username: name } })));

    const users = await Promise.all(tokens.map((token, i) => me(i % 2 ? a : b, token)));

    expect(new Set(users.map((user) => user.id)).size).to.equal(1);
    expect(users[0]!.username).to.equal(name);
  });

  it('when a claimed username is taken or unusable, then the new user gets a free, valid one', async () => {
    const app = await node();
    const builtin = await registerUser(app);
    const first = await me(app, await idp.token(key, { sub: randomUUID(), claims: { preferred_username: builtin.user.username } }));
    const second = await me(app, await idp.token(key, { sub: randomUUID(), claims: { preferred_username: builtin.user.username.toUpperCase() } }));
    const tag = uniqueName('');
    const odd = await me(app, await idp.token(key, { sub: randomUUID(), claims: { preferred_username: `Zoë Ünï, ${tag}!` } }));
    const none = await me(app, await idp.token(key, { sub: randomUUID() }));

    expect(first.username).to.equal(`${builtin.user.username}-2`);
    expect(second.username).to.equal(`${builtin.user.username.toUpperCase()}-3`);
    expect(odd.username).to.equal(`Zoe_Uni__${tag}_`);
    expect(none.username).to.match(/^user-[0-9a-f]{12}$/);
    for (const user of [first, second, odd, none]) expect(user.username).to.match(/^[a-zA-Z0-9_.-]{3,32}$/);
  });

  it('when the provider rotates keys, then a new kid is picked up and the old kid stays valid until it is removed from the JWKS', async () => {
    const app = await node({ AUTH_JWKS_CACHE_MS: '1000' });
    const sub = randomUUID();
    const oldToken = await idp.token(key, { sub });
    expect(await answers(app, oldToken)).to.include({ me: 'ok', chat: 'ok' });

    const next = idp.add(providerKey('k2', 'EdDSA'));
    const newToken = await idp.token(next, { sub });
    expect(await answers(app, newToken)).to.include({ me: 'ok', chat: 'ok' });
    expect(await answers(app, oldToken)).to.include({ me: 'ok', chat: 'ok' });

    idp.remove('k1');
    // Refetched once the cached set is older than AUTH_JWKS_CACHE_MS (in the background).
    await waitFor(async () => (await http(app, 'GET', '/api/me', { token: oldToken })).status === 401, 10_000, 'the removed key to stop verifying');
    expect(await answers(app, oldToken)).to.deep.equal(REFUSED);
    expect(await answers(app, newToken)).to.include({ me: 'ok', chat: 'ok' });
  });

  it('when tokens are forged or carry the wrong claims, then each is refused on every entry point', async () => {
    const app = await node();
    const sub = randomUUID();
    const valid = await idp.token(key, { sub, claims: { app: { roles: ['admin'] } } });
    const otherIssuer = new IdentityProvider('https://other-idp.example', AUDIENCE);
    const intruder = providerKey('k1');
    const claims = payloadOf(valid);
    const now = Math.floor(Date.now() / 1000);

    const cases: Record<string, { token: string; expected: object }> = {
      'another issuer, its own key under the known kid': { token: await otherIssuer.token(intruder, { sub }), expected: REFUSED },
      'another key under the known kid, claiming this issuer': { token: await idp.token(intruder, { sub }), expected: REFUSED },
      'the right key, another issuer': { token: await idp.token(key, { sub, issuer: 'https://other-idp.example' }), expected: REFUSED },
      'the right key, another audience': { token: await idp.token(key, { sub, audience: 'another-app' }), expected: REFUSED },
      'expired': { token: await idp.token(key, { sub, expiresIn: -30 }), expected: { me: 'token_expired', chat: 'token_expired', admin: 'token_expired' } },
      'not yet valid (nbf)': { token: await idp.token(key, { sub, claims: { nbf: now + 600 } }), expected: REFUSED },
      'no sub': {
        token: await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(idp.issuer).setAudience(AUDIENCE).setExpirationTime(now + 60).sign(key.privateKey),
        expected: REFUSED,
      },
      'no exp': {
        token: await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject(sub).setIssuer(idp.issuer).setAudience(AUDIENCE).sign(key.privateKey),
        expected: REFUSED,
      },
      'alg none': { token: `${b64({ alg: 'none', kid: 'k1' })}.${b64(claims)}.`, expected: REFUSED },
      'HS256 keyed with the public JWK': { token: hmac({ alg: 'HS256', kid: 'k1' }, claims, JSON.stringify(publicJwk(key))), expected: REFUSED },
      'HS256 keyed with the public PEM': { token: hmac({ alg: 'HS256', kid: 'k1' }, claims, key.publicPem), expected: REFUSED },
      'PS256 claimed for the RS256 key': { token: await idp.token(key, { sub, alg: 'PS256' }), expected: REFUSED },
      'no kid': { token: await idp.token(key, { sub, kid: null }), expected: REFUSED },
    };
    const results: Record<string, object> = {};
    for (const [name, { token }] of Object.entries(cases)) results[name] = await answers(app, token);

    expect(results).to.deep.equal(Object.fromEntries(Object.entries(cases).map(([name, { expected }]) => [name, expected])));
    // The control: the same claims, properly signed, pass everywhere.
    expect(await answers(app, valid)).to.deep.equal({ me: 'ok', chat: 'ok', admin: 'ok' });
  });

  it('when the JWKS endpoint hangs, then known keys keep verifying (even past the cache age) and unknown kids are refused, with one fetch per cooldown', async () => {
    const app = await node({ AUTH_JWKS_CACHE_MS: '1000', AUTH_JWKS_COOLDOWN_MS: '2000', AUTH_JWKS_TIMEOUT_MS: '500' });
    const sub = randomUUID();
    const known = await idp.token(key, { sub });
    expect(await answers(app, known)).to.include({ me: 'ok', chat: 'ok' });

    idp.mode = 'hang';
    const fetchesBefore = idp.requests;
    await sleep(2_100); // past the cache age and the cooldown: the next verification starts a refetch, in the background
    expect(await answers(app, known)).to.include({ me: 'ok', chat: 'ok' });
    // Within the cooldown that refetch was the only one: unknown kids, and a known kid under another
    // algorithm, are refused without another.
    const unknown = providerKey('k9');
    const ecUnderKnownKid = providerKey('k1', 'ES256');
    for (let i = 0; i < 5; i++) {
      expect((await http(app, 'GET', '/api/me', { token: await idp.token(unknown, { sub }) })).body.error.code).to.equal('unauthorized');
      expect((await http(app, 'GET', '/api/me', { token: await idp.token(ecUnderKnownKid, { sub }) })).body.error.code).to.equal('unauthorized');
    }
    expect(idp.requests - fetchesBefore).to.equal(1);
    expect((await http(app, 'GET', '/api/me', { token: known })).status).to.equal(200);
  });

  it('when BUILTIN_AUTH=off, then built-in login, sign-up and refresh are refused and app tokens still sign in', async () => {
    const on = await node();
    const builtin = await registerUser(on);
    const off = await node({ BUILTIN_AUTH: 'off' });

    const login = await http(off, 'POST', '/api/auth/login', { body: { login: builtin.user.username, password: builtin.password } });
    const signUp = await http(off, 'POST', '/api/auth/register', { body: { username: uniqueName(), email: `${uniqueName()}@example.test`, password: 'long-enough-pw' } });
    const refresh = await http(off, 'POST', '/api/auth/refresh', { body: { refreshToken: builtin.refreshToken } });

    expect([login.status, login.body.error.code]).to.deep.equal([403, 'forbidden']);
    expect([signUp.status, signUp.body.error.code]).to.deep.equal([403, 'registration_closed']);
    expect([refresh.status, refresh.body.error.code]).to.deep.equal([403, 'forbidden']);
    expect(await answers(off, await idp.token(key, { sub: randomUUID() }))).to.include({ me: 'ok', chat: 'ok' });
  });

  it('when the SDK gets its tokens from the app (getToken) and they live 2 s, then it asks again before expiry and keeps sending on one socket', async () => {
    const app = await node();
    const sub = randomUUID();
    let calls = 0;
    const client = sdkClient(app, {
      getToken: async () => {
        calls++;
        return idp.token(key, { sub, claims: { preferred_username: uniqueName('sdk') }, expiresIn: 2 });
      },
    });
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);
    const socketId = client.socketId;

    await sleep(3_500);
    const message = await room.send('still here');

    expect(calls).to.be.greaterThan(2);
    expect(client.socketId).to.equal(socketId);
    expect(message.seq).to.equal(1);
  });

  it('when the app is slow to give the next token, then the server expires the socket as for its own tokens and the SDK reconnects with a fresh one from getToken', async () => {
    const app = await node();
    const sub = randomUUID();
    let calls = 0;
    const client = sdkClient(app, {
      getToken: async () => {
        if (++calls === 2) await sleep(3_000); // the app's backend is slow once
        return idp.token(key, { sub, expiresIn: 2 });
      },
    });
    const states: StateChange[] = [];
    client.on('state', (state) => states.push(state));
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);

    await waitFor(() => states.some((state) => state.state === 'reconnecting'), 5_000, 'the server to expire the socket');
    await waitFor(() => client.state === 'connected', 8_000, 'the reconnect');
    const message = await room.send('back');

    expect(states.find((state) => state.state === 'reconnecting')?.reason).to.equal('session_expired');
    expect(calls).to.be.at.least(2);
    expect(message.seq).to.equal(1);
  });
});

describe('external identity: a PEM public key or an HS256 shared secret', function () {
  this.timeout(30_000);
  afterEach(closeAll);
  const issuer = 'https://app.example';

  it('when AUTH_JWT_PUBLIC_KEY is an ES256 key, then its tokens sign in and HS256 keyed with that PEM is refused', async () => {
    const key = providerKey('any', 'ES256');
    const idp = new IdentityProvider(issuer, AUDIENCE);
    const app = await startNode({ AUTH_JWT_PUBLIC_KEY: key.publicPem, AUTH_JWT_ISSUER: issuer, AUTH_JWT_AUDIENCE: AUDIENCE });
    const token = await idp.token(key, { sub: randomUUID(), kid: null });

    expect(await answers(app, token)).to.include({ me: 'ok', chat: 'ok' });
    expect(await answers(app, hmac({ alg: 'HS256' }, payloadOf(token), key.publicPem))).to.deep.equal(REFUSED);
  });

  it('when AUTH_JWT_SECRET is set, then HS256 tokens of the app sign in, and Roomcast’s own tokens (JWT_SECRET) still do', async () => {
    const secret = 'the-app-and-roomcast-share-this-long-secret';
    const app = await startNode({ AUTH_JWT_SECRET: secret, AUTH_JWT_ISSUER: issuer });
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: randomUUID(), iss: issuer, exp: now + 60 };

    expect(await answers(app, hmac({ alg: 'HS256' }, claims, secret))).to.include({ me: 'ok', chat: 'ok' });
    expect(await answers(app, hmac({ alg: 'HS256' }, claims, 'a-different-secret-that-is-long-enough'))).to.deep.equal(REFUSED);
    const builtin = await registerUser(app);
    expect(await answers(app, builtin.accessToken)).to.include({ me: 'ok', chat: 'ok' });
  });
});

function hmac(header: object, payload: object, secret: string): string {
  const input = `${b64({ typ: 'JWT', ...header })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
