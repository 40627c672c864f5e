// Roomcast's own access tokens signed with a key pair (JWT_ALGORITHM RS256 or
// EdDSA): login → socket handshake → REST on real nodes, the public keys at
// /.well-known/jwks.json verifying them outside Roomcast, rotation by key id,
// and every algorithm-confusion forgery refused on every entry point.
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { RoomcastApp } from '../server/app.js';
import { login } from './support/admin.js';
import { OpenApiResponses, type OpenApiDocument } from './support/openapi-responses.js';
import { closeAll, connect, http, registerUser, request, startNode, type TestUser } from './support/util.js';

type Algorithm = 'RS256' | 'EdDSA';

interface KeyPair {
  privatePem: string;
  publicPem: string;
  privateKey: KeyObject;
}

function keyPair(algorithm: Algorithm): KeyPair {
  const { privateKey, publicKey } = algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return {
    privateKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** A node signing with `pair` under key id `kid` (none: the key's thumbprint), also accepting `previous`. */
const keyedNode = (algorithm: Algorithm, pair: KeyPair, kid?: string, previous?: string) =>
  startNode({ JWT_ALGORITHM: algorithm, JWT_PRIVATE_KEY: pair.privatePem, ...(kid ? { JWT_KEY_ID: kid } : {}), ...(previous ? { JWT_PREVIOUS_PUBLIC_KEYS: previous } : {}) });

/** A signed-in user: registered on `app`, then logged in there (the token under test is the login's). */
async function signedIn(app: RoomcastApp): Promise<TestUser> {
  const user = await registerUser(app);
  const res = await login(app, user.user.username, user.password);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return { ...user, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken! };
}

/**
 * What REST (GET /api/me), the /chat handshake and auth:refresh answer for a
 * token of `holder`; auth:refresh is asked on a socket of the holder's fresh
 * login on `app` (a socket takes only its own user's tokens).
 */
async function answers(app: RoomcastApp, token: string, holder: TestUser): Promise<{ rest: string; handshake: string; refresh: string }> {
  const me = await http(app, 'GET', '/api/me', { token });
  let handshake: string;
  try {
    (await connect(app, { token })).disconnect();
    handshake = 'ok';
  } catch (err) {
    handshake = (err as Error).message;
  }
  const fresh = await login(app, holder.user.username, holder.password);
  const socket = await connect(app, { token: fresh.body.accessToken });
  const ack = await request(socket, 'auth:refresh', { token });
  socket.disconnect();
  return { rest: me.status === 200 ? 'ok' : String(me.body?.error?.code), handshake, refresh: ack.ok ? 'ok' : ack.error.code };
}

const ACCEPTED = { rest: 'ok', handshake: 'ok', refresh: 'ok' };
const REFUSED = { rest: 'unauthorized', handshake: 'unauthorized', refresh: 'unauthorized' };

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as JWTPayload;

/** An HS256 token whose HMAC key is `secret` (e.g. a public key's PEM: the classic algorithm confusion). */
function hmacToken(header: object, payload: object, secret: string): string {
  const input = `${b64({ typ: 'JWT', ...header })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The same claims, signed by a key the caller chooses, under the header the caller chooses. */
const resigned = (token: string, key: KeyObject, header: { alg: string; kid?: string }) => new SignJWT(claimsOf(token)).setProtectedHeader({ typ: 'JWT', ...header }).sign(key);

async function jwks(app: RoomcastApp) {
  return http<{ keys: { kid: string; alg: string; kty: string; d?: string }[] }>(app, 'GET', '/.well-known/jwks.json');
}

describe('asymmetric access tokens (JWT_ALGORITHM RS256 / EdDSA)', function () {
  // RSA key generation and several nodes per test.
  this.timeout(60_000);
  afterEach(closeAll);

  for (const algorithm of ['RS256', 'EdDSA'] as const) {
    it(`when a node signs with ${algorithm}, then login, the socket handshake, REST and auth:refresh work, and the published key verifies the token outside Roomcast`, async () => {
      const pair = keyPair(algorithm);
      const app = await keyedNode(algorithm, pair, `${algorithm.toLowerCase()}-2026-11`);
      const alice = await signedIn(app);

      expect(decodeProtectedHeader(alice.accessToken)).to.include({ alg: algorithm, kid: `${algorithm.toLowerCase()}-2026-11` });
      expect(await answers(app, alice.accessToken, alice)).to.deep.equal(ACCEPTED);
      // Another service: only the published key set, no secret.
      const published = await jwks(app);
      expect(published.status).to.equal(200);
      expect(published.headers.get('cache-control')).to.match(/max-age=\d+/);
      const { payload } = await jwtVerify(alice.accessToken, createLocalJWKSet(published.body as never), { issuer: 'roomcast', audience: 'roomcast', algorithms: [algorithm] });
      expect(payload.sub).to.equal(alice.user.id);
      // The refreshed token is signed the same way.
      const refreshed = await http(app, 'POST', '/api/auth/refresh', { body: { refreshToken: alice.refreshToken } });
      expect(refreshed.status).to.equal(200);
      expect(decodeProtectedHeader(refreshed.body.accessToken)).to.include({ alg: algorithm, kid: `${algorithm.toLowerCase()}-2026-11` });
      expect((await http(app, 'GET', '/api/rooms', { token: refreshed.body.accessToken })).status).to.equal(200);
    });
  }

  it('when keys rotate, then a token of the old key id is accepted while it is listed in JWT_PREVIOUS_PUBLIC_KEYS and refused once it is removed', async () => {
    const oldPair = keyPair('RS256');
    const newPair = keyPair('EdDSA');
    const before = await keyedNode('RS256', oldPair, 'old');
    const alice = await signedIn(before);
    // The old key listed by id (JSON form): the rotated node signs with the new key, accepts both.
    const during = await keyedNode('EdDSA', newPair, 'new', JSON.stringify({ old: oldPair.publicPem }));
    const bob = await signedIn(during);
    expect(decodeProtectedHeader(bob.accessToken)).to.include({ alg: 'EdDSA', kid: 'new' });
    expect((await jwks(during)).body.keys.map(({ kid, alg }) => `${kid}:${alg}`)).to.deep.equal(['new:EdDSA', 'old:RS256']);

    expect(await answers(during, alice.accessToken, alice)).to.deep.equal(ACCEPTED);
    // The old node knows nothing of the new key yet: why the procedure publishes it first.
    expect((await http(before, 'GET', '/api/me', { token: bob.accessToken })).body.error.code).to.equal('unauthorized');

    const after = await keyedNode('EdDSA', newPair, 'new');
    expect((await jwks(after)).body.keys.map(({ kid }) => kid)).to.deep.equal(['new']);
    expect(await answers(after, alice.accessToken, alice)).to.deep.equal(REFUSED);
    expect(await answers(after, bob.accessToken, bob)).to.deep.equal(ACCEPTED);
  });

  it('when no key ids are configured, then each key is known by its thumbprint and a bare PEM in JWT_PREVIOUS_PUBLIC_KEYS keeps the old tokens working', async () => {
    const oldPair = keyPair('EdDSA');
    const newPair = keyPair('EdDSA');
    const before = await keyedNode('EdDSA', oldPair);
    const alice = await signedIn(before);
    const oldKid = decodeProtectedHeader(alice.accessToken).kid!;
    expect((await jwks(before)).body.keys.map(({ kid }) => kid)).to.deep.equal([oldKid]);

    // One line with \n escapes, as an environment file holds it.
    const during = await keyedNode('EdDSA', newPair, undefined, oldPair.publicPem.replace(/\n/g, '\\n'));
    const bob = await signedIn(during);
    expect(decodeProtectedHeader(bob.accessToken).kid).to.not.equal(oldKid);
    expect((await jwks(during)).body.keys.map(({ kid }) => kid)).to.deep.equal([decodeProtectedHeader(bob.accessToken).kid, oldKid]);
    expect(await answers(during, alice.accessToken, alice)).to.deep.equal(ACCEPTED);
  });

  it('when tokens are forged by algorithm confusion (HS256 with the public key, none, another key under a known kid, a kid of another algorithm, no kid), then every entry point refuses them', async () => {
    const rsa = keyPair('RS256');
    const previous = keyPair('EdDSA');
    const app = await keyedNode('RS256', rsa, 'rsa-1', JSON.stringify({ 'ed-0': previous.publicPem }));
    const alice = await signedIn(app);
    const claims = claimsOf(alice.accessToken);
    const intruder = keyPair('RS256');
    const intruderEd = keyPair('EdDSA');
    const published = (await jwks(app)).body;

    const forgeries: Record<string, string> = {
      'HS256 keyed with the public key PEM': hmacToken({ alg: 'HS256', kid: 'rsa-1' }, claims, rsa.publicPem),
      'HS256 keyed with the published JWK': hmacToken({ alg: 'HS256', kid: 'rsa-1' }, claims, JSON.stringify(published.keys[0])),
      'alg none': `${b64({ alg: 'none', typ: 'JWT', kid: 'rsa-1' })}.${b64(claims)}.`,
      'another RSA key under the known kid': await resigned(alice.accessToken, intruder.privateKey, { alg: 'RS256', kid: 'rsa-1' }),
      'another Ed25519 key under the previous kid': await resigned(alice.accessToken, intruderEd.privateKey, { alg: 'EdDSA', kid: 'ed-0' }),
      'EdDSA claimed for the RSA kid': await resigned(alice.accessToken, intruderEd.privateKey, { alg: 'EdDSA', kid: 'rsa-1' }),
      'the right key but no kid': await resigned(alice.accessToken, rsa.privateKey, { alg: 'RS256' }),
      'the right key under an unknown kid': await resigned(alice.accessToken, rsa.privateKey, { alg: 'RS256', kid: 'rsa-9' }),
      'PS256 with the right key': await resigned(alice.accessToken, rsa.privateKey, { alg: 'PS256', kid: 'rsa-1' }),
    };
    const results: Record<string, object> = {};
    for (const [name, token] of Object.entries(forgeries)) results[name] = await answers(app, token, alice);

    expect(results).to.deep.equal(Object.fromEntries(Object.keys(forgeries).map((name) => [name, REFUSED])));
    // The control: the same claims, re-signed with the right key and kid, pass (so the refusals are about the keys).
    expect(await answers(app, await resigned(alice.accessToken, rsa.privateKey, { alg: 'RS256', kid: 'rsa-1' }), alice)).to.deep.equal(ACCEPTED);
  });

  it('when the node uses HS256 (the default), then tokens signed with a key pair and alg none are refused, and the JWKS is empty', async () => {
    const app = await startNode();
    const alice = await signedIn(app);
    const pair = keyPair('RS256');
    expect(decodeProtectedHeader(alice.accessToken)).to.deep.equal({ alg: 'HS256', typ: 'JWT' });

    expect(await answers(app, await resigned(alice.accessToken, pair.privateKey, { alg: 'RS256', kid: 'x' }), alice)).to.deep.equal(REFUSED);
    expect(await answers(app, `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claimsOf(alice.accessToken))}.`, alice)).to.deep.equal(REFUSED);
    expect(await answers(app, alice.accessToken, alice)).to.deep.equal(ACCEPTED);
    const published = await jwks(app);
    expect(published.status).to.equal(200);
    expect(published.body).to.deep.equal({ keys: [] });
  });

  it('when the JWKS of a key-pair node is read, then it holds public parts only and matches the OpenAPI document', async () => {
    const app = await keyedNode('RS256', keyPair('RS256'), 'rsa-1', keyPair('EdDSA').publicPem);
    const checker = new OpenApiResponses((await http<OpenApiDocument>(app, 'GET', '/api/openapi.json')).body);
    const res = await jwks(app);

    expect(checker.check('GET', '/.well-known/jwks.json', res)).to.deep.equal([]);
    expect(res.body.keys.map(({ kty, alg }) => `${kty}:${alg}`)).to.deep.equal(['RSA:RS256', 'OKP:EdDSA']);
    expect(res.body.keys.every((key) => !('d' in key) && !('p' in key))).to.equal(true);
  });
});
