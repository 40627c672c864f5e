// Every route, called for real, answers what the OpenAPI document says: a
// documented status, and a body that matches the documented schema.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message } from '../client-sdk/src/protocol.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createApp, type RoomcastApp } from '../server/app.js';
import { environment } from './support/environment.js';
import { OpenApiResponses, type OpenApiDocument } from './support/openapi-responses.js';
import { closeAll, connect, createRoom, http, issuedSecrets, ok, registerAdmin, registerUser, startNode, testConfig, testLogger, uniqueName } from './support/util.js';

describe('REST answers against the OpenAPI document', () => {
  let app: RoomcastApp;
  let checker: OpenApiResponses;
  const problems: string[] = [];

  before(async () => {
    app = await startNode({ CORS_ORIGINS: 'http://allowed.example', LOGIN_FAILURE_LIMIT: '2' });
    checker = new OpenApiResponses((await http<OpenApiDocument>(app, 'GET', '/api/openapi.json')).body);
  });
  after(closeAll);

  /** Calls `template` (ids filled from `ids`), checks the answer against the document, and returns it. */
  async function call<T = any>(method: string, template: string, options: { ids?: Record<string, string>; query?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => options.ids?.[name] ?? randomUUID()) + (options.query ?? '');
    const res = await http<T>(app, method, path, options);
    problems.push(...checker.check(method, template, res));
    return res;
  }

  it('when every route is called for its answers and its errors, then each status is documented and each body matches its schema', async () => {
    // ---------------------------------------------------------------- auth
    const admin = await registerAdmin(app);
    const member = await registerUser(app);
    const name = uniqueName();
    const signUp = { username: name, email: `${name}@example.test`, password: 'long-enough-pw' };
    expect((await call('POST', '/api/auth/register', { body: { ...signUp, client: 'native' } })).status).to.equal(201);
    expect((await call('POST', '/api/auth/register', { body: signUp })).status).to.equal(409);
    expect((await call('POST', '/api/auth/register', { body: { username: 'x' } })).status).to.equal(400);
    const login = await call('POST', '/api/auth/login', { body: { login: name, password: signUp.password, client: 'native' } });
    expect(login.status).to.equal(200);
    const refreshToken = (login.body as { refreshToken: string }).refreshToken;
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken } })).status).to.equal(200);
    expect((await call('POST', '/api/auth/refresh', { body: { refreshToken } })).status).to.equal(401);
    expect((await call('POST', '/api/auth/refresh')).status).to.equal(401);
    const browser = await call('POST', '/api/auth/login', { body: { login: member.user.username, password: member.password } });
    expect(browser.status).to.equal(200);
    const cookie = browser.headers.get('set-cookie')!.split(';')[0]!;
    expect((await call('POST', '/api/auth/refresh', { headers: { cookie } })).status).to.equal(200);
    const leaver = await registerUser(app);
    expect((await call('POST', '/api/auth/logout', { body: { refreshToken: leaver.refreshToken } })).status).to.equal(204);
    for (let i = 0; i < 3; i++) await call('POST', '/api/auth/login', { body: { login: name, password: 'wrong-password' } });
    expect((await call('POST', '/api/auth/login', { body: { login: name, password: 'wrong-password' } })).status).to.equal(429);
    expect((await call('GET', '/api/me', { token: member.accessToken })).status).to.equal(200);
    expect((await call('GET', '/api/me')).status).to.equal(401);
    expect((await call('GET', '/api/me', { token: 'not-a-jwt' })).status).to.equal(401);
    // The transport in front of /api: a foreign Origin, a body that is not JSON, a body too large.
    expect((await call('GET', '/api/me', { token: member.accessToken, headers: { origin: 'http://evil.example' } })).status).to.equal(403);
    expect((await call('POST', '/api/auth/login', { body: '{"login":' })).status).to.equal(400);
    expect((await call('POST', '/api/rooms', { token: member.accessToken, body: { name: 'x'.repeat(70_000) } })).status).to.equal(413);

    // --------------------------------------------------------------- rooms
    expect((await call('GET', '/api/rooms', { token: member.accessToken })).status).to.equal(200);
    const created = await call<{ room: { id: string } }>('POST', '/api/rooms', { token: member.accessToken, body: { name: uniqueName('room') } });
    expect(created.status).to.equal(201);
    const roomId = created.body.room.id;
    expect((await call('POST', '/api/rooms', { token: member.accessToken, body: { name: 'x', readOnly: true } })).status).to.equal(403);
    expect((await call('GET', '/api/rooms/{id}', { token: member.accessToken, ids: { id: roomId } })).status).to.equal(200);
    expect((await call('GET', '/api/rooms/{id}', { token: member.accessToken })).status).to.equal(404);
    expect((await call('GET', '/api/rooms/{id}', { token: member.accessToken, ids: { id: 'nope' } })).status).to.equal(400);
    const socket = await connect(app, { token: member.accessToken });
    await ok(socket, 'room:join', { roomId });
    const { message } = await ok<{ message: Message }>(socket, 'message:send', { roomId, content: 'hello', clientMsgId: randomUUID() });
    socket.disconnect();
    const history = await call<{ messages: Message[] }>('GET', '/api/rooms/{id}/messages', { token: member.accessToken, ids: { id: roomId } });
    expect(history.status).to.equal(200);
    expect(history.body.messages).to.have.length(1);
    expect((await call('GET', '/api/rooms/{id}/messages', { query: '?afterSeq=0&beforeSeq=2', token: member.accessToken, ids: { id: roomId } })).status).to.equal(400);
    const changes = await call<{ changes: Message[]; lastChange: number }>('GET', '/api/rooms/{id}/changes', { query: '?after=0&limit=10', token: member.accessToken, ids: { id: roomId } });
    expect([changes.status, changes.body.changes.length, changes.body.lastChange]).to.deep.equal([200, 1, 1]);
    expect((await call('GET', '/api/rooms/{id}/changes', { query: '?after=-1', token: member.accessToken, ids: { id: roomId } })).status).to.equal(400);
    expect((await call('GET', '/api/rooms/{id}/changes', { token: member.accessToken })).status).to.equal(404);
    // Replies (docs/protocol.md, "Replies"): a thread pages like history.
    const thread = await call<{ messages: Message[] }>('GET', '/api/rooms/{id}/messages/{seq}/replies', { token: member.accessToken, ids: { id: roomId, seq: '1' } });
    expect([thread.status, thread.body.messages]).to.deep.equal([200, []]);
    expect((await call('GET', '/api/rooms/{id}/messages/{seq}/replies', { token: member.accessToken, ids: { id: roomId, seq: '2' } })).status).to.equal(404);
    expect((await call('GET', '/api/rooms/{id}/messages/{seq}/replies', { token: member.accessToken, ids: { id: roomId, seq: '0' } })).status).to.equal(400);
    // Read state (docs/protocol.md, "Read state").
    expect((await call('PUT', '/api/rooms/{id}/read', { token: member.accessToken, ids: { id: roomId }, body: { seq: 1 } })).status).to.equal(200);
    expect((await call('PUT', '/api/rooms/{id}/read', { token: member.accessToken, ids: { id: roomId }, body: { seq: 2 } })).status).to.equal(400);
    expect((await call('PUT', '/api/rooms/{id}/read', { token: member.accessToken, body: { seq: 0 } })).status).to.equal(404);
    expect((await call('GET', '/api/rooms/{id}/reads', { token: member.accessToken, ids: { id: roomId } })).status).to.equal(200);
    expect((await call('GET', '/api/rooms/{id}/reads', { token: member.accessToken })).status).to.equal(404);
    expect((await call('GET', '/api/rooms/{id}/reads', { query: '?limit=0', token: member.accessToken, ids: { id: roomId } })).status).to.equal(400);
    const listedRooms = await call<{ rooms: { id: string; readSeq?: number; unreadCount?: number }[] }>('GET', '/api/rooms', { token: member.accessToken });
    expect(listedRooms.body.rooms.find((r) => r.id === roomId)).to.include({ readSeq: 1, unreadCount: 0 });

    // --------------------------------------------------------- room admin
    expect((await call('PATCH', '/api/rooms/{id}', { token: admin.accessToken, ids: { id: roomId }, body: { readOnly: true } })).status).to.equal(200);
    expect((await call('PATCH', '/api/rooms/{id}', { token: admin.accessToken, ids: { id: roomId }, body: { readReceipts: true } })).status).to.equal(200);
    expect((await call('PATCH', '/api/rooms/{id}', { token: admin.accessToken, ids: { id: roomId }, body: {} })).status).to.equal(400);
    expect((await call('PATCH', '/api/rooms/{id}', { token: member.accessToken, ids: { id: roomId }, body: { readOnly: true } })).status).to.equal(403);
    const secret = await createRoom(app, admin.accessToken, { visibility: 'private' });
    const ids = { id: secret.id, userId: member.user.id };
    expect((await call('POST', '/api/rooms/{id}/members', { token: admin.accessToken, ids, body: { userId: member.user.id } })).status).to.equal(204);
    expect((await call('DELETE', '/api/rooms/{id}/members/{userId}', { token: admin.accessToken, ids })).status).to.equal(204);
    expect((await call('DELETE', '/api/rooms/{id}/members/{userId}', { token: admin.accessToken })).status).to.equal(404);
    // Members and direct rooms (issue 14).
    expect((await call('POST', '/api/rooms/{id}/members', { token: admin.accessToken, ids, body: { userId: member.user.id } })).status).to.equal(204);
    expect((await call('GET', '/api/rooms/{id}/members', { token: member.accessToken, ids })).status).to.equal(200);
    expect((await call('GET', '/api/rooms/{id}/members', { token: member.accessToken })).status).to.equal(404);
    expect((await call('POST', '/api/rooms/{id}/leave', { token: member.accessToken, ids })).status).to.equal(204);
    expect((await call('POST', '/api/rooms/{id}/leave', { token: member.accessToken, ids })).status).to.equal(404);
    expect((await call('POST', '/api/dms', { token: member.accessToken, body: { userId: admin.user.id } })).status).to.equal(201);
    expect((await call('POST', '/api/dms', { token: admin.accessToken, body: { userId: member.user.id } })).status).to.equal(200);
    expect((await call('POST', '/api/dms', { token: member.accessToken, body: { userId: member.user.id } })).status).to.equal(400);

    // -------------------------------------------------------------- admin
    expect((await call('GET', '/api/admin/users', { token: admin.accessToken })).status).to.equal(200);
    expect((await call('GET', '/api/admin/users', { token: member.accessToken })).status).to.equal(403);
    const victim = await registerUser(app);
    expect((await call('PATCH', '/api/admin/users/{id}', { token: admin.accessToken, ids: { id: victim.user.id }, body: { banned: true } })).status).to.equal(200);
    expect((await call('GET', '/api/me', { token: victim.accessToken })).status).to.equal(403);
    expect((await call('POST', '/api/admin/broadcast', { token: admin.accessToken, body: { content: 'maintenance soon' } })).status).to.equal(202);
    expect((await call('DELETE', '/api/admin/messages/{id}', { token: admin.accessToken, ids: { id: message.id } })).status).to.equal(204);
    expect((await call('DELETE', '/api/admin/messages/{id}', { token: admin.accessToken, ids: { id: '9223372036854775807' } })).status).to.equal(404);
    expect((await call('GET', '/api/admin/audit', { token: admin.accessToken })).status).to.equal(200);
    expect((await call('GET', '/api/admin/audit', { query: '?limit=0', token: admin.accessToken })).status).to.equal(400);

    // ------------------------------------------------ API keys, server API
    const createdKey = await call<{ id: string; key: string }>('POST', '/api/admin/api-keys', { token: admin.accessToken, body: { name: 'openapi', scopes: ['publish', 'rooms', 'users', 'presence', 'history'] } });
    expect(createdKey.status).to.equal(201);
    issuedSecrets.add(createdKey.body.key);
    const key = createdKey.body.key;
    expect((await call('POST', '/api/admin/api-keys', { token: admin.accessToken, body: { name: 'x', scopes: [] } })).status).to.equal(400);
    expect((await call('GET', '/api/admin/api-keys', { token: admin.accessToken })).status).to.equal(200);
    const narrowKey = await http<{ id: string; key: string }>(app, 'POST', '/api/admin/api-keys', { token: admin.accessToken, body: { name: 'narrow', scopes: ['history'] } });
    issuedSecrets.add(narrowKey.body.key);
    const serverRoom = await call<{ room: { id: string } }>('POST', '/api/server/rooms', { token: key, body: { name: uniqueName('room') } });
    expect(serverRoom.status).to.equal(201);
    const serverIds = { id: serverRoom.body.room.id, userId: member.user.id };
    expect((await call('POST', '/api/server/rooms', { token: narrowKey.body.key, body: { name: 'x' } })).status).to.equal(403);
    expect((await call('POST', '/api/server/rooms', { body: { name: 'x' } })).status).to.equal(401);
    expect((await call('PATCH', '/api/server/rooms/{id}', { token: key, ids: serverIds, body: { name: uniqueName('renamed') } })).status).to.equal(200);
    expect((await call('PATCH', '/api/server/rooms/{id}', { token: key, body: { name: 'gone' } })).status).to.equal(404);
    expect((await call('POST', '/api/server/rooms/{id}/members', { token: key, ids: serverIds, body: { userId: member.user.id } })).status).to.equal(204);
    expect((await call('DELETE', '/api/server/rooms/{id}/members/{userId}', { token: key, ids: serverIds })).status).to.equal(204);
    const publishBody = { content: 'from the backend', clientMsgId: randomUUID() };
    expect((await call('POST', '/api/server/rooms/{id}/messages', { token: key, ids: serverIds, body: publishBody })).status).to.equal(201);
    expect((await call('POST', '/api/server/rooms/{id}/messages', { token: key, ids: serverIds, body: { ...publishBody, userId: victim.user.id } })).status).to.equal(403);
    expect((await call('POST', '/api/server/rooms/{id}/messages', { token: key, body: { ...publishBody, clientMsgId: randomUUID() } })).status).to.equal(404);
    expect((await call('GET', '/api/server/rooms/{id}/messages', { token: key, ids: serverIds })).status).to.equal(200);
    expect((await call('GET', '/api/server/rooms/{id}/presence', { token: key, ids: serverIds })).status).to.equal(200);
    expect((await call('GET', '/api/server/rooms/{id}/changes', { token: key, ids: serverIds })).status).to.equal(200);
    expect((await call('GET', '/api/server/rooms/{id}/changes', { token: key })).status).to.equal(404);
    expect((await call('GET', '/api/server/rooms/{id}/changes', { token: key, ids: serverIds, query: '?limit=0' })).status).to.equal(400);
    expect((await call('GET', '/api/server/rooms/{id}/presence', { token: key })).status).to.equal(404);
    expect((await call('POST', '/api/server/users/{id}/disconnect', { token: key, ids: { id: member.user.id } })).status).to.equal(204);
    const bannedByKey = await registerUser(app);
    expect((await call('POST', '/api/server/users/{id}/ban', { token: key, ids: { id: bannedByKey.user.id }, body: { minutes: 5 } })).status).to.equal(200);
    expect((await call('DELETE', '/api/server/users/{id}/ban', { token: key, ids: { id: bannedByKey.user.id } })).status).to.equal(200);
    expect((await call('DELETE', '/api/server/users/{id}/ban', { token: key })).status).to.equal(404);
    expect((await call('DELETE', '/api/admin/api-keys/{id}', { token: admin.accessToken, ids: { id: createdKey.body.id } })).status).to.equal(204);
    expect((await call('DELETE', '/api/admin/api-keys/{id}', { token: admin.accessToken, ids: { id: createdKey.body.id } })).status).to.equal(404);
    expect((await call('GET', '/api/server/rooms/{id}/messages', { token: key, ids: serverIds })).status).to.equal(401);
    // ------------------------------------------------------------ webhooks
    // A name that does not resolve is accepted (each delivery resolves again); a loopback target is refused.
    const hook = await call<{ id: string }>('POST', '/api/admin/webhooks', { token: admin.accessToken, body: { url: 'https://hooks.invalid/roomcast', events: ['room.created'] } });
    expect(hook.status).to.equal(201);
    const hookIds = { id: hook.body.id };
    expect((await call('POST', '/api/admin/webhooks', { token: admin.accessToken, body: { url: 'http://127.0.0.1/hook', events: ['room.created'] } })).status).to.equal(400);
    expect((await call('GET', '/api/admin/webhooks', { token: admin.accessToken })).status).to.equal(200);
    await createRoom(app, admin.accessToken);
    const hookDeliveries = await call<{ deliveries: { id: string }[] }>('GET', '/api/admin/webhooks/{id}/deliveries', { token: admin.accessToken, ids: hookIds });
    expect(hookDeliveries.status).to.equal(200);
    expect((await call('GET', '/api/admin/webhooks/{id}/deliveries', { token: admin.accessToken })).status).to.equal(404);
    const replayIds = { ...hookIds, deliveryId: hookDeliveries.body.deliveries[0]!.id };
    expect((await call('POST', '/api/admin/webhooks/{id}/deliveries/{deliveryId}/replay', { token: admin.accessToken, ids: replayIds })).status).to.equal(202);
    expect((await call('POST', '/api/admin/webhooks/{id}/deliveries/{deliveryId}/replay', { token: admin.accessToken, ids: hookIds })).status).to.equal(404);
    expect((await call('POST', '/api/admin/webhooks/{id}/rotate-secret', { token: admin.accessToken, ids: hookIds, body: { graceSeconds: 60 } })).status).to.equal(200);
    expect((await call('POST', '/api/admin/webhooks/{id}/rotate-secret', { token: admin.accessToken, body: {} })).status).to.equal(404);
    expect((await call('DELETE', '/api/admin/webhooks/{id}', { token: admin.accessToken, ids: hookIds })).status).to.equal(204);
    expect((await call('DELETE', '/api/admin/webhooks/{id}', { token: admin.accessToken, ids: hookIds })).status).to.equal(404);

    // --------------------------------------------------- operations, docs
    expect((await call('GET', '/healthz')).status).to.equal(200);
    expect((await call('GET', '/readyz')).status).to.equal(200);
    expect((await call('GET', '/metrics')).status).to.equal(200);
    expect((await call('GET', '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).to.equal(403);
    expect((await call('GET', '/.well-known/jwks.json')).status).to.equal(200);
    expect((await call('GET', '/api/openapi.json')).status).to.equal(200);
    expect((await call('GET', '/api/docs')).status).to.equal(200);

    expect(problems).to.deep.equal([]);
    // Every documented operation was called and gave its success answer.
    for (const [path, byMethod] of Object.entries(checker.document.paths)) {
      for (const [method, operation] of Object.entries(byMethod)) {
        const success = Object.keys(operation.responses).find((status) => status.startsWith('2'))!;
        expect([...(checker.seen.get(`${method.toUpperCase()} ${path}`) ?? [])], `${method} ${path}`).to.include(Number(success));
      }
    }
  });

  it('when the database is gone, then /readyz answers 503 and a database route 503 unavailable, both as documented', async () => {
    // A node with a database of its own, so closing it leaves the run's database alone.
    const database = openDatabase({ url: environment.get().services.databaseUrl, dataDir: null, poolSize: 2 });
    await migrateToLatest(database);
    const node = await createApp(testConfig(), { database, skipMigrations: true, logger: testLogger() });
    await node.listen();
    try {
      const alice = await registerUser(node);
      await database.close();

      const ready = await http(node, 'GET', '/readyz');
      const rooms = await http(node, 'GET', '/api/rooms', { token: alice.accessToken });

      expect(ready.status).to.equal(503);
      expect(rooms.status).to.be.oneOf([500, 503]);
      expect(checker.check('GET', '/readyz', ready)).to.deep.equal([]);
      expect(checker.check('GET', '/api/rooms', rooms)).to.deep.equal([]);
    } finally {
      await node.close();
    }
  });
});
