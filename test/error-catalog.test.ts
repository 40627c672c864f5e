// One error catalog: the SDK's ERROR_STATUS, the table in docs/protocol.md,
// AppError's statuses and the statuses the server really answers must agree.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { ERROR_CODES, ERROR_STATUS, type ErrorCode } from '../client-sdk/src/protocol.js';
import type { RoomcastApp } from '../server/app.js';
import { AppError } from '../server/errors.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createApp } from '../server/app.js';
import { environment } from './support/environment.js';
import { closeAll, connect, http, registerUser, request, startNode, testConfig, testLogger, uniqueName, type HttpResult } from './support/util.js';

const SECRET = 'catalog-test-secret-long-enough-for-hs256-signing';

/** The rows of the "Error codes" table in docs/protocol.md, as code → status. */
function documentedCatalog(): Record<string, number> {
  const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Error codes'));
  if (!section) throw new Error('docs/protocol.md has no "## Error codes" section');
  const catalog: Record<string, number> = {};
  for (const match of section.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
    const [, code, status] = match;
    if (code! in catalog) throw new Error(`docs/protocol.md lists ${code} twice`);
    catalog[code!] = Number(status);
  }
  return catalog;
}

describe('error catalog', () => {
  it('when the docs table is read, then it equals ERROR_STATUS exactly (same codes, same statuses)', () => {
    expect(documentedCatalog()).to.deep.equal({ ...ERROR_STATUS });
  });

  it('when the contract’s codes are listed, then ERROR_STATUS keeps every one with the contract’s status (additions only beside them)', () => {
    const contract: Record<string, number> = {
      validation_failed: 400, unauthorized: 401, token_expired: 401, invalid_credentials: 401, refresh_reused: 401, forbidden: 403, banned: 403,
      registration_closed: 403, not_found: 404, conflict: 409, payload_too_large: 413, rate_limited: 429, read_only: 403, muted: 403, unavailable: 503, internal: 500,
    };
    const catalog: Record<string, number> = { ...ERROR_STATUS };
    for (const [code, status] of Object.entries(contract)) expect(catalog[code], code).to.equal(status);
    // Codes added beside the contract's are documented in the same table.
    expect(Object.keys(documentedCatalog())).to.include.members(ERROR_CODES);
  });

  it('when an AppError is made for any code, then its status is the catalog’s', () => {
    for (const code of ERROR_CODES) expect(new AppError(code, 'x').status, code).to.equal(ERROR_STATUS[code]);
  });

  describe('the server’s real HTTP statuses', () => {
    let app: RoomcastApp;
    beforeEach(async () => {
      app = await startNode({ JWT_SECRET: SECRET, LOGIN_FAILURE_LIMIT: '2' });
    });
    afterEach(closeAll);

    const expectCode = (res: HttpResult<{ error: { code: string; message: string } }>, code: ErrorCode) => {
      expect(res.body, code).to.have.nested.property('error.code', code);
      expect(res.status, code).to.equal(ERROR_STATUS[code]);
      expect(res.body.error.message).to.be.a('string');
    };

    it('when each sampled error is triggered, then status and code match the catalog', async () => {
      // Not the run's first user (who would be admin).
      await registerUser(app);
      const alice = await registerUser(app);
      const claims = jwt.decode(alice.accessToken) as jwt.JwtPayload;

      expectCode(await http(app, 'POST', '/api/auth/register', { body: { username: 'x' } }), 'validation_failed');
      expectCode(await http(app, 'GET', '/api/me'), 'unauthorized');
      const expired = jwt.sign({ ...claims, iat: claims.iat! - 3600, exp: Math.floor(Date.now() / 1000) - 5 }, SECRET, { algorithm: 'HS256' });
      expectCode(await http(app, 'GET', '/api/me', { token: expired }), 'token_expired');
      expectCode(await http(app, 'GET', '/api/rooms/00000000-0000-4000-8000-000000000000', { token: alice.accessToken }), 'not_found');
      const wrongMethod = await http(app, 'PUT', '/api/rooms', { token: alice.accessToken, body: { name: 'x' } });
      expectCode(wrongMethod, 'method_not_allowed');
      expect(wrongMethod.headers.get('allow')).to.equal('GET, POST, HEAD');
      expectCode(
        await http(app, 'POST', '/api/auth/register', { body: { username: alice.user.username, email: `${uniqueName()}@example.test`, password: 'long-enough-pw' } }),
        'conflict',
      );
      expectCode(await http(app, 'POST', '/api/rooms', { token: alice.accessToken, body: { name: 'x', readOnly: true } }), 'forbidden');
      expectCode(await http(app, 'POST', '/api/rooms', { token: alice.accessToken, body: { name: 'x'.repeat(70_000) } }), 'payload_too_large');

      const first = await http(app, 'POST', '/api/auth/refresh', { body: { refreshToken: alice.refreshToken } });
      expect(first.status).to.equal(200);
      expectCode(await http(app, 'POST', '/api/auth/refresh', { body: { refreshToken: alice.refreshToken } }), 'refresh_reused');

      const bob = await registerUser(app);
      for (let i = 0; i < 2; i++) expectCode(await http(app, 'POST', '/api/auth/login', { body: { login: bob.user.username, password: 'wrong-password' } }), 'invalid_credentials');
      const limited = await http(app, 'POST', '/api/auth/login', { body: { login: bob.user.username, password: bob.password } });
      expectCode(limited, 'rate_limited');
      expect(limited.headers.get('retry-after')).to.match(/^\d+$/);

      const closed = await startNode({ REGISTRATION: 'closed' });
      expectCode(await http(closed, 'POST', '/api/auth/register', { body: { username: uniqueName(), email: `${uniqueName()}@example.test`, password: 'long-enough-pw' } }), 'registration_closed');
    });

    it('when the database is gone, then answers are internal or unavailable with no stack or SQL, and /readyz is 503', async () => {
      // A node with a database of its own, so closing it leaves the run's database alone.
      const database = openDatabase({ url: environment.get().services.databaseUrl, dataDir: null, poolSize: 2 });
      await migrateToLatest(database);
      const node = await createApp(testConfig({ JWT_SECRET: SECRET }), { database, skipMigrations: true, logger: testLogger() });
      await node.listen();
      try {
        const alice = await registerUser(node);
        const socket = await connect(node, { token: alice.accessToken });
        await database.close();

        const rest = await http(node, 'GET', '/api/rooms', { token: alice.accessToken });
        const ack = await request(socket, 'room:join', { roomId: '00000000-0000-4000-8000-000000000000' });
        const ready = await http(node, 'GET', '/readyz');

        expect([500, 503]).to.include(rest.status);
        expect(rest.body).to.have.all.keys('error');
        expect(rest.body.error).to.have.all.keys('code', 'message');
        expect(ERROR_STATUS[rest.body.error.code as ErrorCode]).to.equal(rest.status);
        expect(JSON.stringify(rest.body)).to.not.match(/select|from "|\bat\b|\.ts:|knex|pglite|postgres/i);
        expect(!ack.ok && ['internal', 'unavailable'].includes(ack.error.code)).to.equal(true);
        expect(JSON.stringify(ack)).to.not.match(/select|\.ts:|knex|pglite|postgres/i);
        expect(ready.status).to.equal(503);
      } finally {
        await node.close();
      }
    });

    it('when a forbidden origin calls, then the answer is forbidden with its catalog status', async () => {
      const strict = await startNode({ CORS_ORIGINS: 'http://allowed.example' });
      const alice = await registerUser(strict);
      expectCode(await http(strict, 'GET', '/api/rooms', { token: alice.accessToken, headers: { origin: 'http://evil.example' } }), 'forbidden');
    });
  });
});
