import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { AuditPage, Message, MessageDeletedEvent, Room, SessionRevokedEvent, SystemBroadcastEvent, User, UsersPage } from '../server/protocol.js';
import { adminSocket, auditEntries, login, serverDisconnect } from './support/admin.js';
import { environment } from './support/environment.js';
import { collect, connect, createRoom, http, membersInRoom, nextEvent, ok, registerAdmin, registerUser, sleep, uniqueName, useNode, waitFor } from './support/util.js';

const auditCount = async () => Number(((await environment.get().database.knex('audit_log').count({ n: '*' })) as { n: string }[])[0]!.n);

describe('admin REST', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  describe('every admin route', () => {
    it('when a member calls it, then the answer is 403 forbidden and nothing changes', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const target = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      const publicRoom = await createRoom(node.app, target.accessToken);
      const targetSocket = await connect(node.app, { token: target.accessToken });
      await ok(targetSocket, 'room:join', { roomId: publicRoom.id });
      const broadcasts = collect(targetSocket, 'system:broadcast');
      const { message } = await ok<{ message: Message }>(targetSocket, 'message:send', { roomId: publicRoom.id, content: 'keep me', clientMsgId: randomUUID() });
      await http(node.app, 'POST', `/api/rooms/${room.id}/members`, { token: admin.accessToken, body: { userId: target.user.id } });
      const auditBefore = await auditCount();

      const calls: [string, string, unknown?][] = [
        ['GET', '/api/admin/users'],
        ['PATCH', `/api/admin/users/${target.user.id}`, { banned: true, role: 'admin' }],
        ['POST', '/api/admin/broadcast', { content: 'from a member' }],
        ['DELETE', `/api/admin/messages/${message.id}`],
        ['GET', '/api/admin/audit'],
        ['PATCH', `/api/rooms/${publicRoom.id}`, { name: 'renamed', readOnly: true, archived: true }],
        // Since issue 14 a room's owner manages its members too: a member who owns nothing gets 403 where they see the room…
        ['POST', `/api/rooms/${publicRoom.id}/members`, { userId: member.user.id }],
        ['DELETE', `/api/rooms/${publicRoom.id}/members/${target.user.id}`],
      ];
      for (const [method, route, body] of calls) {
        const res = await http(node.app, method, route, { token: member.accessToken, body });
        expect(res.status, `${method} ${route}`).to.equal(403);
        expect(res.body.error.code, `${method} ${route}`).to.equal('forbidden');
        const anonymous = await http(node.app, method, route, { body });
        expect(anonymous.status, `${method} ${route} without a token`).to.equal(401);
      }

      const me = await http<{ user: User }>(node.app, 'GET', '/api/me', { token: target.accessToken });
      expect(me.body.user).to.include({ role: 'member', banned: false });
      expect(targetSocket.connected).to.equal(true);
      const history = await http(node.app, 'GET', `/api/rooms/${publicRoom.id}/messages`, { token: target.accessToken });
      expect(history.body.messages[0]).to.include({ content: 'keep me', deleted: false });
      const roomNow = await http<{ room: Room }>(node.app, 'GET', `/api/rooms/${publicRoom.id}`, { token: target.accessToken });
      expect(roomNow.body.room).to.include({ name: publicRoom.name, readOnly: false, archived: false });
      // …and 404 where they do not (a private room they may not see is not found).
      expect((await http(node.app, 'POST', `/api/rooms/${room.id}/members`, { token: member.accessToken, body: { userId: member.user.id } })).status).to.equal(404);
      expect((await http(node.app, 'DELETE', `/api/rooms/${room.id}/members/${target.user.id}`, { token: member.accessToken })).status).to.equal(404);
      expect((await http(node.app, 'GET', `/api/rooms/${room.id}`, { token: member.accessToken })).status).to.equal(404);
      expect((await http(node.app, 'GET', `/api/rooms/${room.id}`, { token: target.accessToken })).status).to.equal(200);
      await sleep(50);
      expect(broadcasts).to.have.length(0);
      expect(await auditCount()).to.equal(auditBefore);
    });
  });

  describe('GET /api/admin/users', () => {
    it('searches by username or email, shows emails, and pages with nextCursor', async () => {
      const admin = await registerAdmin(node.app);
      const tag = uniqueName('find');
      const found = await Promise.all([1, 2, 3].map((n) => registerUser(node.app, `${tag}_${n}`)));
      await registerUser(node.app);

      const first = await http<UsersPage>(node.app, 'GET', `/api/admin/users?q=${tag}&limit=2`, { token: admin.accessToken });
      const second = await http<UsersPage>(node.app, 'GET', `/api/admin/users?q=${tag}&limit=2&cursor=${first.body.nextCursor}`, { token: admin.accessToken });
      const byEmail = await http<UsersPage>(node.app, 'GET', `/api/admin/users?q=${tag}_2@example`, { token: admin.accessToken });

      expect(first.status).to.equal(200);
      expect(first.body.users.map((u) => u.username)).to.deep.equal([`${tag}_1`, `${tag}_2`]);
      expect(first.body.users[0]).to.include({ id: found[0]!.user.id, email: `${tag}_1@example.test`, role: 'member', banned: false });
      expect(first.body.nextCursor).to.be.a('string');
      expect(second.body.users.map((u) => u.username)).to.deep.equal([`${tag}_3`]);
      expect(second.body.nextCursor).to.equal(null);
      expect(byEmail.body.users.map((u) => u.id)).to.deep.equal([found[1]!.user.id]);
    });

    it('answers validation_failed for a bad limit', async () => {
      const admin = await registerAdmin(node.app);
      const res = await http(node.app, 'GET', '/api/admin/users?limit=0', { token: admin.accessToken });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
    });
  });

  describe('PATCH /api/admin/users/:id', () => {
    it('banned: true ends every socket of the user with session:revoked banned within 1 s, revokes refresh, and is audited', async () => {
      const admin = await registerAdmin(node.app);
      const target = await registerUser(node.app);
      const chat = await connect(node.app, { token: target.accessToken });
      const revoked = nextEvent<SessionRevokedEvent>(chat, 'session:revoked', 2_000);
      const gone = serverDisconnect(chat, 2_000);

      const started = Date.now();
      const res = await http<{ user: User }>(node.app, 'PATCH', `/api/admin/users/${target.user.id}`, { token: admin.accessToken, body: { banned: true } });

      expect(res.status).to.equal(200);
      expect(res.body.user).to.include({ id: target.user.id, banned: true, email: target.user.email });
      expect(await revoked).to.deep.equal({ reason: 'banned' });
      expect((await gone).at - started).to.be.below(1_000);
      const refresh = await http(node.app, 'POST', '/api/auth/refresh', { body: { refreshToken: target.refreshToken } });
      expect(refresh.status).to.be.oneOf([401, 403]);
      expect((await login(node.app, target.user.username, target.password)).body.error?.code).to.equal('banned');
      const [entry] = await auditEntries(node.app, admin.accessToken, 'ban');
      expect(entry).to.include({ actorId: admin.user.id, targetType: 'user', targetId: target.user.id });
    });

    it('a role change ends the sockets of the user with session:revoked role_changed; the new role applies at the next login', async () => {
      const admin = await registerAdmin(node.app);
      const target = await registerUser(node.app);
      const chat = await connect(node.app, { token: target.accessToken });
      const revoked = nextEvent<SessionRevokedEvent>(chat, 'session:revoked', 2_000);
      const gone = serverDisconnect(chat, 2_000);

      const res = await http<{ user: User }>(node.app, 'PATCH', `/api/admin/users/${target.user.id}`, { token: admin.accessToken, body: { role: 'admin' } });

      expect(res.status).to.equal(200);
      expect(res.body.user.role).to.equal('admin');
      expect(await revoked).to.deep.equal({ reason: 'role_changed' });
      await gone;
      const refresh = await http(node.app, 'POST', '/api/auth/refresh', { body: { refreshToken: target.refreshToken } });
      expect(refresh.status).to.equal(401);
      const again = await login(node.app, target.user.username, target.password);
      expect(again.body.user.role).to.equal('admin');
      await adminSocket(node.app, again.body.accessToken);
      const [entry] = await auditEntries(node.app, admin.accessToken, 'role_change');
      expect(entry).to.include({ actorId: admin.user.id, targetId: target.user.id });
      expect(entry!.details).to.deep.equal({ from: 'member', to: 'admin' });
    });

    it("demoting an admin ends their /admin socket with role_changed, and they can no longer reach /admin", async () => {
      const admin = await registerAdmin(node.app);
      const other = await registerAdmin(node.app);
      const otherControl = await adminSocket(node.app, other.accessToken);
      const revoked = nextEvent<SessionRevokedEvent>(otherControl, 'session:revoked', 2_000);

      const res = await http(node.app, 'PATCH', `/api/admin/users/${other.user.id}`, { token: admin.accessToken, body: { role: 'member' } });

      expect(res.status).to.equal(200);
      expect(await revoked).to.deep.equal({ reason: 'role_changed' });
      const stale = await http(node.app, 'GET', '/api/admin/users', { token: other.accessToken });
      expect(stale.status).to.equal(403);
    });

    it('answers 400 for an empty body or a bad role, 404 for an unknown user, 403 for demoting yourself', async () => {
      const admin = await registerAdmin(node.app);
      const target = await registerUser(node.app);
      const patch = (id: string, body: unknown) => http(node.app, 'PATCH', `/api/admin/users/${id}`, { token: admin.accessToken, body });

      expect((await patch(target.user.id, {})).status).to.equal(400);
      expect((await patch(target.user.id, { role: 'owner' })).status).to.equal(400);
      expect((await patch('not-a-uuid', { banned: true })).status).to.equal(400);
      expect((await patch(randomUUID(), { banned: true })).body.error.code).to.equal('not_found');
      const self = await patch(admin.user.id, { role: 'member' });
      expect(self.status).to.equal(403);
      expect((await http(node.app, 'GET', '/api/admin/users?limit=1', { token: admin.accessToken })).status).to.equal(200);
    });
  });

  describe('POST /api/admin/broadcast', () => {
    it('answers 202 and reaches every /chat socket', async () => {
      const admin = await registerAdmin(node.app);
      const user = await registerUser(node.app);
      const socket = await connect(node.app, { token: user.accessToken });
      const received = nextEvent<SystemBroadcastEvent>(socket, 'system:broadcast');

      const res = await http(node.app, 'POST', '/api/admin/broadcast', { token: admin.accessToken, body: { content: 'hello all' } });

      expect(res.status).to.equal(202);
      expect(res.body).to.deep.equal({ delivered: 1 });
      expect(await received).to.include({ content: 'hello all', roomId: null });
      const bad = await http(node.app, 'POST', '/api/admin/broadcast', { token: admin.accessToken, body: { content: 'x'.repeat(4001) } });
      expect(bad.status).to.equal(400);
    });
  });

  describe('DELETE /api/admin/messages/:id', () => {
    it('answers 204, tells the room message:deleted, keeps the seq in history with empty content, and is audited', async () => {
      const admin = await registerAdmin(node.app);
      const { room, users: [author, reader], sockets: [authorSocket, readerSocket] } = await membersInRoom([node.app, node.app]);
      const { message } = await ok<{ message: Message }>(authorSocket, 'message:send', { roomId: room.id, content: 'spam', clientMsgId: randomUUID() });
      const deleted = collect<MessageDeletedEvent>(readerSocket, 'message:deleted');

      const res = await http(node.app, 'DELETE', `/api/admin/messages/${message.id}`, { token: admin.accessToken });

      expect(res.status).to.equal(204);
      await waitFor(() => deleted.length === 1, 2_000, 'message:deleted');
      expect(deleted[0]).to.deep.equal({ id: message.id, roomId: room.id, seq: message.seq, change: message.change + 1 });
      const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: reader.accessToken });
      expect(history.body.messages).to.have.length(1);
      expect(history.body.messages[0]).to.include({ id: message.id, seq: 1, deleted: true, content: '' });
      const [entry] = await auditEntries(node.app, admin.accessToken, 'message_delete');
      expect(entry).to.include({ actorId: admin.user.id, targetType: 'message', targetId: message.id });
      expect(entry!.details).to.deep.include({ roomId: room.id, authorId: author.user.id });
      const again = await http(node.app, 'DELETE', `/api/admin/messages/${message.id}`, { token: admin.accessToken });
      expect(again.status).to.equal(404);
      expect((await http(node.app, 'DELETE', '/api/admin/messages/abc', { token: admin.accessToken })).status).to.equal(400);
    });
  });

  describe('GET /api/admin/audit', () => {
    it('lists entries newest first and pages with nextCursor', async () => {
      const admin = await registerAdmin(node.app);
      const target = await registerUser(node.app);
      const patch = (body: unknown) => http(node.app, 'PATCH', `/api/admin/users/${target.user.id}`, { token: admin.accessToken, body });
      await patch({ banned: true });
      await patch({ banned: false });
      await patch({ role: 'admin' });

      const first = await http<AuditPage>(node.app, 'GET', '/api/admin/audit?limit=2', { token: admin.accessToken });
      const second = await http<AuditPage>(node.app, 'GET', `/api/admin/audit?limit=1&cursor=${first.body.nextCursor}`, { token: admin.accessToken });

      expect(first.status).to.equal(200);
      expect(first.body.entries.map((e) => e.action)).to.deep.equal(['role_change', 'unban']);
      expect(first.body.entries[0]).to.have.all.keys('id', 'actorId', 'action', 'targetType', 'targetId', 'details', 'createdAt');
      expect(second.body.entries.map((e) => e.action)).to.deep.equal(['ban']);
      expect(second.body.entries[0]!.targetId).to.equal(target.user.id);
      expect((await http(node.app, 'GET', '/api/admin/audit?cursor=x', { token: admin.accessToken })).status).to.equal(400);
    });
  });
});
