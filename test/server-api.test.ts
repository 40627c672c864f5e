import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { ApiKeyStore } from '../db/stores/api-key-store.js';
import { UserStore } from '../db/stores/user-store.js';
import type { RoomcastApp } from '../server/app.js';
import {
  SYSTEM_USER_ID,
  SYSTEM_USERNAME,
  type ApiKeyScope,
  type ApiKeysResponse,
  type AuditEntry,
  type CreatedApiKey,
  type HistoryPage,
  type Message,
  type Room,
  type ServerPresencePage,
  type SessionRevokedEvent,
  type User,
} from '../server/protocol.js';
import { auditEntries, serverDisconnect } from './support/admin.js';
import { useRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { createMigratedDatabase, recordSkip } from './support/services.js';
import { collect, connect, createRoom, http, issuedSecrets, nextEvent, ok, registerAdmin, registerUser, sleep, uniqueName, useNode, waitFor, type TestUser } from './support/util.js';

const ALL_SCOPES: ApiKeyScope[] = ['publish', 'rooms', 'users', 'presence', 'history'];

/** Creates a key through the admin API (and adds it to the secrets no log may hold). */
async function createKey(app: RoomcastApp, admin: TestUser, scopes: ApiKeyScope[], name = uniqueName('key')): Promise<CreatedApiKey> {
  const res = await http<CreatedApiKey>(app, 'POST', '/api/admin/api-keys', { token: admin.accessToken, body: { name, scopes } });
  if (res.status !== 201) throw new Error(`create key failed: ${res.status} ${JSON.stringify(res.body)}`);
  issuedSecrets.add(res.body.key);
  return res.body;
}

const publishBody = (extra: Record<string, unknown> = {}) => ({ content: `hello ${randomUUID().slice(0, 6)}`, clientMsgId: randomUUID(), ...extra });

describe('server API (/api/server/, API keys)', () => {
  describe('POST/GET/DELETE /api/admin/api-keys', () => {
    const node = useNode();

    it('creates a key shown once (rck_…, stored as its SHA-256), lists keys without it, and revokes it so it is refused at once', async () => {
      const admin = await registerAdmin(node.app);
      const name = uniqueName('backend');

      const created = await createKey(node.app, admin, ['publish', 'rooms'], name);
      const listed = await http<ApiKeysResponse>(node.app, 'GET', '/api/admin/api-keys', { token: admin.accessToken });
      const row = await environment.get().database.knex('api_keys').where({ id: created.id }).first();

      expect(created).to.include({ name, lastUsedAt: null });
      expect(created.scopes).to.deep.equal(['publish', 'rooms']);
      expect(created.key).to.match(/^rck_[A-Za-z0-9_-]{43}$/);
      expect(row.key_hash).to.equal(createHash('sha256').update(created.key).digest('hex'));
      expect(JSON.stringify(row)).not.to.contain(created.key.slice(4));
      const mine = listed.body.apiKeys.find((k) => k.id === created.id)!;
      expect(mine).to.have.all.keys('id', 'name', 'scopes', 'createdAt', 'lastUsedAt');

      const room = await createRoom(node.app, admin.accessToken);
      const before = await http(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, { token: created.key, body: publishBody() });
      const revoked = await http(node.app, 'DELETE', `/api/admin/api-keys/${created.id}`, { token: admin.accessToken });
      const after = await http(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, { token: created.key, body: publishBody() });
      const again = await http(node.app, 'DELETE', `/api/admin/api-keys/${created.id}`, { token: admin.accessToken });
      const listedAfter = await http<ApiKeysResponse>(node.app, 'GET', '/api/admin/api-keys', { token: admin.accessToken });

      expect(before.status).to.equal(201);
      expect(revoked.status).to.equal(204);
      expect(after.status).to.equal(401);
      expect(after.body.error.code).to.equal('unauthorized');
      expect(again.status).to.equal(404);
      expect(listedAfter.body.apiKeys.map((k) => k.id)).not.to.include(created.id);
    });

    it('refuses members (403), anonymous callers (401) and bad input (400)', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const key = await createKey(node.app, admin, ['history']);

      for (const [method, path, body] of [
        ['POST', '/api/admin/api-keys', { name: 'x', scopes: ['publish'] }],
        ['GET', '/api/admin/api-keys', undefined],
        ['DELETE', `/api/admin/api-keys/${key.id}`, undefined],
      ] as const) {
        expect((await http(node.app, method, path, { token: member.accessToken, body })).status, `${method} ${path} as a member`).to.equal(403);
        expect((await http(node.app, method, path, { body })).status, `${method} ${path} anonymous`).to.equal(401);
      }
      for (const body of [{ name: 'x', scopes: [] }, { name: 'x', scopes: ['admin'] }, { name: '', scopes: ['publish'] }, { scopes: ['publish'] }, { name: 'x\u0000', scopes: ['publish'] }]) {
        const res = await http(node.app, 'POST', '/api/admin/api-keys', { token: admin.accessToken, body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
      }
      // An admin's access token is no API key.
      const room = await createRoom(node.app, admin.accessToken);
      expect((await http(node.app, 'GET', `/api/server/rooms/${room.id}/messages`, { token: admin.accessToken })).status).to.equal(401);
      expect((await http(node.app, 'GET', `/api/server/rooms/${room.id}/messages`, { token: `rck_${'A'.repeat(43)}` })).status).to.equal(401);
    });

    it('audits creation and revocation with the admin as actor, and records a key\'s use in lastUsedAt', async () => {
      const admin = await registerAdmin(node.app);
      const key = await createKey(node.app, admin, ['history']);
      const room = await createRoom(node.app, admin.accessToken);

      await http(node.app, 'GET', `/api/server/rooms/${room.id}/messages`, { token: key.key });
      let used: string | null = null;
      for (let i = 0; i < 50 && !used; i++) {
        const listed = await http<ApiKeysResponse>(node.app, 'GET', '/api/admin/api-keys', { token: admin.accessToken });
        used = listed.body.apiKeys.find((k) => k.id === key.id)!.lastUsedAt;
        if (!used) await sleep(20);
      }
      await http(node.app, 'DELETE', `/api/admin/api-keys/${key.id}`, { token: admin.accessToken });

      expect(used).to.be.a('string');
      const [created] = (await auditEntries(node.app, admin.accessToken, 'api_key_create')).filter((e) => e.targetId === key.id);
      const [revoked] = (await auditEntries(node.app, admin.accessToken, 'api_key_revoke')).filter((e) => e.targetId === key.id);
      expect(created).to.deep.include({ actorId: admin.user.id, targetType: 'api_key', details: { name: key.name, scopes: ['history'] } });
      expect(revoked).to.include({ actorId: admin.user.id, targetType: 'api_key' });
    });
  });

  describe('scopes', () => {
    const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

    it('every /api/server/ route refuses a key without its scope (403 forbidden) and a missing key (401), and changes nothing; a key with only that scope passes', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      const routes: [ApiKeyScope, string, string, unknown?][] = [
        ['rooms', 'POST', '/api/server/rooms', { name: uniqueName('room') }],
        ['rooms', 'PATCH', `/api/server/rooms/${room.id}`, { name: uniqueName('renamed') }],
        ['rooms', 'POST', `/api/server/rooms/${room.id}/members`, { userId: member.user.id }],
        ['rooms', 'DELETE', `/api/server/rooms/${room.id}/members/${member.user.id}`],
        ['publish', 'POST', `/api/server/rooms/${room.id}/messages`, publishBody()],
        ['users', 'POST', `/api/server/users/${member.user.id}/disconnect`],
        ['users', 'POST', `/api/server/users/${member.user.id}/ban`, { minutes: 5 }],
        ['users', 'DELETE', `/api/server/users/${member.user.id}/ban`],
        ['presence', 'GET', `/api/server/rooms/${room.id}/presence`],
        ['history', 'GET', `/api/server/rooms/${room.id}/messages`],
        ['history', 'GET', `/api/server/rooms/${room.id}/changes`],
      ];
      const allBut = new Map<ApiKeyScope, CreatedApiKey>();
      const only = new Map<ApiKeyScope, CreatedApiKey>();
      for (const scope of ALL_SCOPES) {
        allBut.set(scope, await createKey(node.app, admin, ALL_SCOPES.filter((s) => s !== scope)));
        only.set(scope, await createKey(node.app, admin, [scope]));
      }
      const auditCount = async () => Number(((await environment.get().database.knex('audit_log').count({ n: '*' })) as { n: string }[])[0]!.n);
      const auditBefore = await auditCount();

      for (const [scope, method, path, body] of routes) {
        const refused = await http(node.app, method, path, { token: allBut.get(scope)!.key, body });
        expect(refused.status, `${method} ${path} without ${scope}`).to.equal(403);
        expect(refused.body.error.code).to.equal('forbidden');
        const anonymous = await http(node.app, method, path, { body });
        expect(anonymous.status, `${method} ${path} without a key`).to.equal(401);
      }
      expect(await auditCount(), 'refused calls change and audit nothing').to.equal(auditBefore);
      const roomNow = await http<{ room: Room }>(node.app, 'GET', `/api/rooms/${room.id}`, { token: admin.accessToken });
      expect(roomNow.body.room.name).to.equal(room.name);
      expect(roomNow.body.room.lastSeq).to.equal(0);

      for (const [scope, method, path, body] of routes) {
        const passed = await http(node.app, method, path, { token: only.get(scope)!.key, body });
        expect(passed.status, `${method} ${path} with only ${scope}: ${JSON.stringify(passed.body)}`).to.be.within(200, 204);
      }
    });
  });

  describe('POST /api/server/rooms/:id/messages', () => {
    const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

    it('publishes as the given user after commit with its seq, delivers message:new to the room like a socket send, and a repeated clientMsgId answers the original', async () => {
      const admin = await registerAdmin(node.app);
      const author = await registerUser(node.app);
      const listener = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const key = await createKey(node.app, admin, ['publish', 'history']);
      const authorSocket = await connect(node.app, { token: author.accessToken });
      const listenerSocket = await connect(node.app, { token: listener.accessToken });
      await ok(authorSocket, 'room:join', { roomId: room.id });
      await ok(listenerSocket, 'room:join', { roomId: room.id });
      // A socket send first, so the published message is the room's second.
      const firstHeard = nextEvent<Message>(listenerSocket, 'message:new');
      await ok(authorSocket, 'message:send', { roomId: room.id, content: 'first', clientMsgId: randomUUID() });
      await firstHeard;
      const heard = collect<Message>(listenerSocket, 'message:new');
      const authorHeard = collect<Message>(authorSocket, 'message:new');
      const body = publishBody({ userId: author.user.id });

      const first = await http<{ message: Message }>(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, { token: key.key, body });
      const repeat = await http<{ message: Message }>(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, { token: key.key, body });
      await waitFor(() => heard.length >= 1 && authorHeard.length >= 1);
      await sleep(100);
      const history = await http<HistoryPage>(node.app, 'GET', `/api/server/rooms/${room.id}/messages`, { token: key.key });

      expect(first.status).to.equal(201);
      expect(first.body.message).to.include({ roomId: room.id, seq: 2, userId: author.user.id, username: author.user.username, content: body.content, clientMsgId: body.clientMsgId });
      expect(repeat.status).to.equal(201);
      expect(repeat.body.message).to.deep.equal(first.body.message);
      expect(heard).to.deep.equal([first.body.message]);
      // The sender's own sockets hear it too: no socket sent it.
      expect(authorHeard).to.deep.equal([first.body.message]);
      expect(history.body.messages.map((m) => m.seq)).to.deep.equal([1, 2]);
    });

    it('with replyToSeq publishes a reply (the parent\'s replyCount moves, heard as message:updated); a deleted or missing parent is 404 not_found', async () => {
      const admin = await registerAdmin(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const key = await createKey(node.app, admin, ['publish', 'history']);
      const socket = await connect(node.app, { token: admin.accessToken });
      await ok(socket, 'room:join', { roomId: room.id });
      const parent = (await ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'question', clientMsgId: randomUUID() })).message;
      const gone = (await ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'gone', clientMsgId: randomUUID() })).message;
      await ok(socket, 'message:delete', { messageId: gone.id });
      const updated = nextEvent<Message>(socket, 'message:updated');
      const publish = (replyToSeq: number) => http<{ message: Message }>(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, { token: key.key, body: publishBody({ replyToSeq }) });

      const reply = await publish(parent.seq);

      expect([reply.status, reply.body.message.replyToSeq]).to.deep.equal([201, parent.seq]);
      expect(await updated).to.include({ id: parent.id, replyCount: 1, lastReplyAt: reply.body.message.createdAt });
      expect((await publish(gone.seq)).status).to.equal(404);
      expect((await publish(99)).status).to.equal(404);
      expect((await publish(0)).status).to.equal(400);
    });

    it('without userId publishes as the system user, which may post in a read-only room where a member may not', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken, { readOnly: true });
      const key = await createKey(node.app, admin, ['publish']);
      const socket = await connect(node.app, { token: member.accessToken });
      await ok(socket, 'room:join', { roomId: room.id });
      const heard = nextEvent<Message>(socket, 'message:new');

      const system = await http<{ message: Message }>(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, { token: key.key, body: publishBody() });
      const asMember = await http(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, { token: key.key, body: publishBody({ userId: member.user.id }) });

      expect(system.status).to.equal(201);
      expect(system.body.message).to.include({ userId: SYSTEM_USER_ID, username: SYSTEM_USERNAME, seq: 1 });
      expect(await heard).to.deep.equal(system.body.message);
      expect(asMember.status).to.equal(403);
      expect(asMember.body.error.code).to.equal('read_only');
      // The system user cannot sign in.
      const login = await http(node.app, 'POST', '/api/auth/login', { body: { login: SYSTEM_USERNAME, password: 'whatever-it-is' } });
      expect(login.status).to.equal(401);
    });

    it('refuses a banned sender (403 banned), an unknown user or room (404), a private room the user is not in (404), and bad input (400)', async () => {
      const admin = await registerAdmin(node.app);
      const banned = await registerUser(node.app);
      const outsider = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const privateRoom = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      const key = await createKey(node.app, admin, ['publish', 'users']);
      await http(node.app, 'POST', `/api/server/users/${banned.user.id}/ban`, { token: key.key, body: {} });
      const post = (roomId: string, body: unknown) => http(node.app, 'POST', `/api/server/rooms/${roomId}/messages`, { token: key.key, body });

      const answers = [
        [await post(room.id, publishBody({ userId: banned.user.id })), 403, 'banned'],
        [await post(room.id, publishBody({ userId: randomUUID() })), 404, 'not_found'],
        [await post(randomUUID(), publishBody()), 404, 'not_found'],
        [await post(privateRoom.id, publishBody({ userId: outsider.user.id })), 404, 'not_found'],
        [await post(room.id, { content: '', clientMsgId: randomUUID() }), 400, 'validation_failed'],
        [await post(room.id, { content: 'x', clientMsgId: 'nope' }), 400, 'validation_failed'],
        [await post(room.id, { content: 'x\u0000', clientMsgId: randomUUID() }), 400, 'validation_failed'],
      ] as const;
      for (const [res, status, code] of answers) {
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
      }
      const roomNow = await http<{ room: Room }>(node.app, 'GET', `/api/rooms/${room.id}`, { token: admin.accessToken });
      expect(roomNow.body.room.lastSeq).to.equal(0);
    });
  });

  describe('rooms, users, presence and the audit log', () => {
    const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

    it('creates and updates rooms, adds and removes members, ends and bans a user\'s sockets, reads presence; every call is audited with the key as actor', async () => {
      const admin = await registerAdmin(node.app);
      const user = await registerUser(node.app);
      const key = await createKey(node.app, admin, ALL_SCOPES);
      const call = <T>(method: string, path: string, body?: unknown) => http<T>(node.app, method, path, { token: key.key, body });

      const created = await call<{ room: Room }>('POST', '/api/server/rooms', { name: uniqueName('support'), visibility: 'private' });
      const roomId = created.body.room.id;
      const hiddenBefore = await http(node.app, 'GET', `/api/rooms/${roomId}`, { token: user.accessToken });
      const added = await call('POST', `/api/server/rooms/${roomId}/members`, { userId: user.user.id });
      const visibleAfter = await http(node.app, 'GET', `/api/rooms/${roomId}`, { token: user.accessToken });
      const socket = await connect(node.app, { token: user.accessToken });
      await ok(socket, 'room:join', { roomId });
      const presence = await call<ServerPresencePage>('GET', `/api/server/rooms/${roomId}/presence`);
      const updated = await call<{ room: Room }>('PATCH', `/api/server/rooms/${roomId}`, { readOnly: true });
      const revoked = nextEvent<SessionRevokedEvent>(socket, 'session:revoked');
      const gone = serverDisconnect(socket);
      const ended = await call('POST', `/api/server/users/${user.user.id}/disconnect`);
      expect(await revoked).to.deep.equal({ reason: 'kicked' });
      await gone;
      const removed = await call('DELETE', `/api/server/rooms/${roomId}/members/${user.user.id}`);
      const ban = await call<{ user: User }>('POST', `/api/server/users/${user.user.id}/ban`, { minutes: 10 });
      const loginWhileBanned = await http(node.app, 'POST', '/api/auth/login', { body: { login: user.user.username, password: user.password } });
      const unban = await call<{ user: User }>('DELETE', `/api/server/users/${user.user.id}/ban`);

      expect(created.status).to.equal(201);
      expect(created.body.room).to.include({ visibility: 'private', readOnly: false, lastSeq: 0 });
      expect(hiddenBefore.status).to.equal(404);
      expect(added.status).to.equal(204);
      expect(visibleAfter.status).to.equal(200);
      expect(presence.status).to.equal(200);
      expect(presence.body).to.deep.equal({ online: [{ userId: user.user.id, username: user.user.username }], nextCursor: null, count: 1 });
      expect(updated.body.room).to.include({ id: roomId, readOnly: true });
      expect(ended.status).to.equal(204);
      expect(removed.status).to.equal(204);
      expect(ban.body.user).to.include({ id: user.user.id, banned: true });
      expect(ban.body.user.bannedUntil).to.be.a('string');
      expect(loginWhileBanned.status).to.equal(403);
      expect(unban.body.user).to.include({ banned: false });

      const audit = await http<{ entries: AuditEntry[] }>(node.app, 'GET', '/api/admin/audit?limit=200', { token: admin.accessToken });
      const byKey = audit.body.entries.filter((e) => e.details.apiKeyId === key.id).reverse();
      expect(byKey.map((e) => e.action)).to.deep.equal(['room_create', 'member_add', 'presence_read', 'room_update', 'sessions_end', 'member_remove', 'ban', 'unban']);
      for (const entry of byKey) expect(entry).to.deep.include({ actorId: null, details: { ...entry.details, via: 'api_key', apiKeyId: key.id } });
      expect(byKey[0]).to.include({ targetType: 'room', targetId: roomId });
      expect(byKey[4]).to.include({ targetType: 'user', targetId: user.user.id });
    });

    it('audits publishes, history and change-log reads with the key as actor; the change log holds the published message', async () => {
      const admin = await registerAdmin(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const key = await createKey(node.app, admin, ['publish', 'history']);

      const published = await http<{ message: Message }>(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, { token: key.key, body: publishBody() });
      await http(node.app, 'GET', `/api/server/rooms/${room.id}/messages?afterSeq=0`, { token: key.key });
      const changes = await http<{ changes: Message[]; lastChange: number }>(node.app, 'GET', `/api/server/rooms/${room.id}/changes?after=0`, { token: key.key });

      const [publish] = (await auditEntries(node.app, admin.accessToken, 'message_publish')).filter((e) => e.details.apiKeyId === key.id);
      const [read] = (await auditEntries(node.app, admin.accessToken, 'history_read')).filter((e) => e.details.apiKeyId === key.id);
      expect(publish).to.deep.include({
        actorId: null,
        targetType: 'message',
        targetId: published.body.message.id,
        details: { roomId: room.id, seq: 1, userId: SYSTEM_USER_ID, clientMsgId: published.body.message.clientMsgId, via: 'api_key', apiKeyId: key.id },
      });
      expect(read).to.deep.include({ actorId: null, targetType: 'room', targetId: room.id });
      expect(read!.details).to.include({ afterSeq: 0, returned: 1, via: 'api_key' });
      expect(changes.status).to.equal(200);
      expect(changes.body.changes).to.deep.equal([published.body.message]);
      const [changesRead] = (await auditEntries(node.app, admin.accessToken, 'changes_read')).filter((e) => e.details.apiKeyId === key.id);
      expect(changesRead).to.deep.include({ actorId: null, targetType: 'room', targetId: room.id });
      expect(changesRead!.details).to.include({ after: 0, returned: 1 });
    });
  });

  describe('rate limit per key', () => {
    const node = useNode({ API_KEY_RATE_LIMIT: '3', API_KEY_RATE_WINDOW: '60' });

    it('when a key has spent API_KEY_RATE_LIMIT calls, then the next answers 429 rate_limited with Retry-After, and another key is not affected', async () => {
      const admin = await registerAdmin(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const [busy, other] = [await createKey(node.app, admin, ['history']), await createKey(node.app, admin, ['history'])];
      const read = (key: CreatedApiKey) => http(node.app, 'GET', `/api/server/rooms/${room.id}/messages`, { token: key.key });

      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await read(busy)).status);
      const refused = await read(busy);
      const otherKey = await read(other);

      expect(statuses).to.deep.equal([200, 200, 200, 429]);
      expect(refused.body.error.code).to.equal('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);
      expect(otherKey.status).to.equal(200);
    });
  });

  describe('across two nodes', () => {
    const { node } = useRedisCluster('server API across two nodes');

    it('when a key is revoked on node A, then node B refuses it on the very next call, and a publish on A reaches a socket on B', async () => {
      const [a, b] = await Promise.all([node('a'), node('b')]);
      const admin = await registerAdmin(a);
      const listener = await registerUser(b);
      const room = await createRoom(a, admin.accessToken);
      const key = await createKey(a, admin, ['publish', 'history']);
      const socket = await connect(b, { token: listener.accessToken });
      await ok(socket, 'room:join', { roomId: room.id });
      const heard = nextEvent<Message>(socket, 'message:new');

      const published = await http<{ message: Message }>(a, 'POST', `/api/server/rooms/${room.id}/messages`, { token: key.key, body: publishBody() });
      const usedOnB = await http(b, 'GET', `/api/server/rooms/${room.id}/messages`, { token: key.key });
      const revoked = await http(a, 'DELETE', `/api/admin/api-keys/${key.id}`, { token: admin.accessToken });
      const afterOnB = await http(b, 'GET', `/api/server/rooms/${room.id}/messages`, { token: key.key });
      const afterOnA = await http(a, 'POST', `/api/server/rooms/${room.id}/messages`, { token: key.key, body: publishBody() });

      expect(published.status).to.equal(201);
      expect(await heard).to.deep.equal(published.body.message);
      expect(usedOnB.status).to.equal(200);
      expect(revoked.status).to.equal(204);
      expect(afterOnB.status).to.equal(401);
      expect(afterOnA.status).to.equal(401);
    });

    it('presence read on node A lists a socket on node B, and disconnect on A ends that socket on B', async () => {
      const [a, b] = await Promise.all([node('a'), node('b')]);
      const admin = await registerAdmin(a);
      const user = await registerUser(b);
      const room = await createRoom(a, admin.accessToken);
      const key = await createKey(a, admin, ['presence', 'users']);
      const socket = await connect(b, { token: user.accessToken });
      await ok(socket, 'room:join', { roomId: room.id });
      const revoked = nextEvent<SessionRevokedEvent>(socket, 'session:revoked');
      const gone = serverDisconnect(socket);

      const presence = await http<ServerPresencePage>(a, 'GET', `/api/server/rooms/${room.id}/presence`, { token: key.key });
      const ended = await http(a, 'POST', `/api/server/users/${user.user.id}/disconnect`, { token: key.key });

      expect(presence.body).to.deep.equal({ online: [{ userId: user.user.id, username: user.user.username }], nextCursor: null, count: 1 });
      expect(ended.status).to.equal(204);
      expect(await revoked).to.deep.equal({ reason: 'kicked' });
      await gone;
    });
  });
});

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`server API stores on a fresh ${kind} database`, function () {
    this.timeout(60_000);
    let database: Database;

    before(async function () {
      let url: string | null = null;
      if (kind === 'postgres') {
        const server = environment.get().services.databaseUrl;
        if (!server) {
          recordSkip(`server API stores on ${kind}`, 'DATABASE_URL (PostgreSQL)');
          this.skip();
        }
        url = await createMigratedDatabase(environment.get().services);
      }
      database = openDatabase({ url, dataDir: null, poolSize: 4 });
      await migrateToLatest(database);
    });
    after(async () => {
      await database?.close();
    });

    it('when the system user exists before anyone registers, then the first registered user still becomes admin, and the system user is made once', async () => {
      const users = new UserStore(database.knex);

      const [system, again] = [await users.ensureSystemUser(), await users.ensureSystemUser()];
      const first = await users.create({ username: uniqueName('first'), email: `${uniqueName('first')}@example.test`, passwordHash: 'x' });
      const second = await users.create({ username: uniqueName('second'), email: `${uniqueName('second')}@example.test`, passwordHash: 'x' });

      expect(system).to.include({ id: SYSTEM_USER_ID, username: SYSTEM_USERNAME, role: 'admin' });
      expect(again.createdAt.getTime()).to.equal(system.createdAt.getTime());
      expect([first.role, second.role]).to.deep.equal(['admin', 'member']);
    });

    it('finds a live key by its hash, records its use at most once per interval, and forgets it once revoked', async () => {
      const keys = new ApiKeyStore(database.knex);
      const created = await keys.create({ name: 'k', keyHash: 'h'.repeat(64), scopes: ['publish', 'history'], createdBy: null });

      const found = await keys.findActiveByHash('h'.repeat(64));
      await keys.touch(created.id, 60);
      const touched = (await keys.findActiveByHash('h'.repeat(64)))!.lastUsedAt;
      await sleep(20);
      await keys.touch(created.id, 60);
      const notAgain = (await keys.findActiveByHash('h'.repeat(64)))!.lastUsedAt;
      const revoked = await keys.revoke(created.id);
      const twice = await keys.revoke(created.id);

      expect(found).to.deep.equal(created);
      expect(created.scopes).to.deep.equal(['publish', 'history']);
      expect(touched).to.be.a('string');
      expect(notAgain).to.equal(touched);
      expect(revoked?.id).to.equal(created.id);
      expect(twice).to.equal(null);
      expect(await keys.findActiveByHash('h'.repeat(64))).to.equal(null);
      expect((await keys.listActive()).map((k) => k.id)).not.to.include(created.id);
    });
  });
}
