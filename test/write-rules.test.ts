import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, Message } from '../server/protocol.js';
import { adminSocket, auditEntries } from './support/admin.js';
import { useRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { collect, connect, createRoom, http, ok, registerAdmin, registerUser, request, useNode, type ChatClient, type TestUser } from './support/util.js';

// Writes follow the room and the membership (issues 16 and 20): the rules of
// server/messages/message-rules.ts on every entry point (message:edit,
// message:delete, DELETE /api/admin/messages/:id), and the edit, join and
// admin-action limits, cluster-wide over Redis.

const codeOf = (ack: Ack) => (ack.ok ? 'ok' : ack.error.code);
const errorOf = (ack: Ack) => (ack.ok ? null : ack.error);

const edit = (socket: ChatClient, messageId: string, content = 'changed') => request<{ message: Message }>(socket, 'message:edit', { messageId, content });
const remove = (socket: ChatClient, messageId: string) => request(socket, 'message:delete', { messageId });

/** The messages of a room as the admin reads them: [content, deleted]. */
async function contents(app: RoomcastApp, admin: TestUser, roomId: string): Promise<Array<[string, boolean]>> {
  const res = await http<{ messages: Message[] }>(app, 'GET', `/api/rooms/${roomId}/messages`, { token: admin.accessToken });
  return res.body.messages.map((m) => [m.content, m.deleted]);
}

describe('write rules', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  /** An admin, a member with a message in a room of the given kind, and a watching member. */
  async function scene(kind: { visibility?: 'public' | 'private' } = {}) {
    const admin = await registerAdmin(node.app);
    const [author, watcher] = await Promise.all([registerUser(node.app), registerUser(node.app)]);
    const room = await createRoom(node.app, admin.accessToken, kind);
    if (kind.visibility === 'private') {
      for (const u of [author, watcher]) {
        expect((await http(node.app, 'POST', `/api/rooms/${room.id}/members`, { token: admin.accessToken, body: { userId: u.user.id } })).status).to.equal(204);
      }
    }
    const sockets = {
      author: await connect(node.app, { token: author.accessToken }),
      watcher: await connect(node.app, { token: watcher.accessToken }),
      admin: await connect(node.app, { token: admin.accessToken }),
    };
    for (const s of Object.values(sockets)) await ok(s, 'room:join', { roomId: room.id });
    const { message } = await ok<{ message: Message }>(sockets.author, 'message:send', { roomId: room.id, content: 'original', clientMsgId: randomUUID() });
    const patch = async (body: Record<string, boolean>) =>
      expect((await http(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body })).status).to.equal(200);
    return { admin, author, watcher, room, sockets, message, patch };
  }

  it('when a member edits in a read-only room, then read_only and nothing changes; deleting their own message stays allowed', async () => {
    const { admin, room, sockets, message, patch } = await scene();
    const { message: second } = await ok<{ message: Message }>(sockets.author, 'message:send', { roomId: room.id, content: 'second', clientMsgId: randomUUID() });
    await patch({ readOnly: true });
    const updates = collect<Message>(sockets.watcher, 'message:updated');

    const refused = await edit(sockets.author, message.id);
    const deleted = await remove(sockets.author, second.id);

    expect(errorOf(refused)).to.deep.equal({ code: 'read_only', message: 'room is read-only' });
    expect(codeOf(deleted)).to.equal('ok');
    expect(await contents(node.app, admin, room.id)).to.deep.equal([['original', false], ['', true]]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(updates).to.deep.equal([]);
  });

  it('when a member edits or deletes in an archived room, then read_only; an admin may, by socket and by REST, and both are audited', async () => {
    const { admin, author, room, sockets, message, patch } = await scene();
    const { message: second } = await ok<{ message: Message }>(sockets.author, 'message:send', { roomId: room.id, content: 'second', clientMsgId: randomUUID() });
    await patch({ archived: true });

    const memberEdit = await edit(sockets.author, message.id);
    const memberDelete = await remove(sockets.author, second.id);
    expect(errorOf(memberEdit)).to.deep.equal({ code: 'read_only', message: 'room is archived' });
    expect(errorOf(memberDelete)).to.deep.equal({ code: 'read_only', message: 'room is archived' });
    expect(await contents(node.app, admin, room.id)).to.deep.equal([['original', false], ['second', false]]);

    const adminEdit = await edit(sockets.admin, message.id, 'moderated');
    const adminDelete = await http(node.app, 'DELETE', `/api/admin/messages/${second.id}`, { token: admin.accessToken });
    expect(codeOf(adminEdit)).to.equal('ok');
    expect(adminDelete.status).to.equal(204);
    expect(await contents(node.app, admin, room.id)).to.deep.equal([['moderated', false], ['', true]]);
    const [editEntry] = await auditEntries(node.app, admin.accessToken, 'message_edit');
    expect(editEntry).to.include({ actorId: admin.user.id, targetType: 'message', targetId: message.id });
    expect(editEntry!.details).to.deep.equal({ roomId: room.id, seq: message.seq, authorId: author.user.id, overrode: 'archived' });
    const [deleteEntry] = await auditEntries(node.app, admin.accessToken, 'message_delete');
    expect(deleteEntry).to.include({ targetId: second.id });
    expect(deleteEntry!.details).to.deep.include({ overrode: 'archived' });
  });

  it('when a muted member edits, then muted and nothing changes; an admin editing it is audited', async () => {
    const { admin, author, room, sockets, message } = await scene();
    const control = await adminSocket(node.app, admin.accessToken);
    await ok(control, 'admin:mute', { userId: author.user.id, roomId: room.id, minutes: 5 });

    const refused = await edit(sockets.author, message.id);
    const byAdmin = await edit(sockets.admin, message.id, 'by admin');

    expect(errorOf(refused)).to.deep.equal({ code: 'muted', message: 'you are muted in this room' });
    expect(codeOf(byAdmin)).to.equal('ok');
    const [entry] = await auditEntries(node.app, admin.accessToken, 'message_edit');
    expect(entry).to.include({ actorId: admin.user.id, targetId: message.id });
    expect(entry!.details).to.not.have.property('overrode');
  });

  it('when a member is removed from a private room, then editing or deleting their message there is not_found and nothing reaches the room', async () => {
    const { admin, author, room, sockets, message } = await scene({ visibility: 'private' });
    const updates = collect<Message>(sockets.watcher, 'message:updated');
    const deletions = collect(sockets.watcher, 'message:deleted');
    expect((await http(node.app, 'DELETE', `/api/rooms/${room.id}/members/${author.user.id}`, { token: admin.accessToken })).status).to.equal(204);

    const edited = await edit(sockets.author, message.id, 'after removal');
    const deleted = await remove(sockets.author, message.id);

    expect(errorOf(edited)).to.deep.equal({ code: 'not_found', message: 'message not found' });
    expect(errorOf(deleted)).to.deep.equal({ code: 'not_found', message: 'message not found' });
    expect(await contents(node.app, admin, room.id)).to.deep.equal([['original', false]]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(updates.length + deletions.length).to.equal(0);
  });

  it('when someone who cannot see the room edits or deletes a message in it, then the answer is exactly that of a nonexistent id', async () => {
    const { admin, room, message } = await scene({ visibility: 'private' });
    const outsider = await registerUser(node.app);
    const socket = await connect(node.app, { token: outsider.accessToken });

    const answers = [await edit(socket, message.id), await remove(socket, message.id)].map(errorOf);
    const nonexistent = [await edit(socket, '999999999'), await remove(socket, '999999999')].map(errorOf);

    expect(answers).to.deep.equal(nonexistent);
    expect(answers[0]).to.deep.equal({ code: 'not_found', message: 'message not found' });
    expect(await contents(node.app, admin, room.id)).to.deep.equal([['original', false]]);
  });
});

describe('write limits', () => {
  describe('on one node, 0 turns them off', () => {
    const node = useNode({ MESSAGE_RATE_LIMIT: '0', EDIT_RATE_LIMIT: '0', JOIN_RATE_LIMIT: '0', ADMIN_ACTION_RATE_LIMIT: '0' });

    it('when every write limit is 0, then many edits, joins and admin actions all pass', async () => {
      const admin = await registerAdmin(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const socket = await connect(node.app, { token: admin.accessToken });
      const control = await adminSocket(node.app, admin.accessToken);
      const { message } = await ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'x', clientMsgId: randomUUID() });
      const acks: Ack[] = [];
      for (let i = 0; i < 40; i++) {
        acks.push(await edit(socket, message.id, `v${i}`), await request(socket, 'room:join', { roomId: room.id }));
        acks.push(await request(control, 'admin:broadcast', { content: `b${i}`, roomId: room.id }));
      }
      expect(new Set(acks.map(codeOf))).to.deep.equal(new Set(['ok']));
    });
  });

  describe('across two nodes over Redis', () => {
    const cluster = useRedisCluster('write limits');
    const limits = { EDIT_RATE_LIMIT: '3', EDIT_RATE_WINDOW: '60', JOIN_RATE_LIMIT: '3', JOIN_RATE_WINDOW: '60', ADMIN_ACTION_RATE_LIMIT: '3', ADMIN_ACTION_RATE_WINDOW: '60' };
    const twoNodes = () => Promise.all([cluster.node('wa', limits), cluster.node('wb', limits)]);

    it('when a user edits on two nodes, then EDIT_RATE_LIMIT counts both; another user keeps their own budget', async () => {
      const [a, b] = await twoNodes();
      const [alice, bob] = await Promise.all([registerUser(a), registerUser(a)]);
      const room = await createRoom(a, alice.accessToken);
      const [onA, onB, bobSocket] = await Promise.all([connect(a, { token: alice.accessToken }), connect(b, { token: alice.accessToken }), connect(b, { token: bob.accessToken })]);
      const { message } = await ok<{ message: Message }>(onA, 'message:send', { roomId: room.id, content: 'x', clientMsgId: randomUUID() });
      const { message: bobs } = await ok<{ message: Message }>(bobSocket, 'message:send', { roomId: room.id, content: 'y', clientMsgId: randomUUID() });

      const acks = [await edit(onA, message.id, '1'), await edit(onB, message.id, '2'), await edit(onA, message.id, '3'), await edit(onB, message.id, '4')];

      expect(acks.map(codeOf)).to.deep.equal(['ok', 'ok', 'ok', 'rate_limited']);
      expect(codeOf(await edit(bobSocket, bobs.id))).to.equal('ok');
      expect(onA.connected && onB.connected).to.equal(true);
    });

    it('when a user joins rooms on two nodes, then JOIN_RATE_LIMIT counts both and the refused join leaves no membership', async () => {
      const [a, b] = await twoNodes();
      const [alice, owner] = await Promise.all([registerUser(a), registerUser(a)]);
      const rooms = await Promise.all([1, 2, 3, 4].map(() => createRoom(a, owner.accessToken)));
      const [onA, onB] = await Promise.all([connect(a, { token: alice.accessToken }), connect(b, { token: alice.accessToken })]);

      const acks = [
        await request(onA, 'room:join', { roomId: rooms[0]!.id }),
        await request(onB, 'room:join', { roomId: rooms[1]!.id }),
        await request(onA, 'room:join', { roomId: rooms[2]!.id }),
        await request(onB, 'room:join', { roomId: rooms[3]!.id }),
      ];

      expect(acks.map(codeOf)).to.deep.equal(['ok', 'ok', 'ok', 'rate_limited']);
      const memberships = await environment.get().database.knex('room_members').where({ user_id: alice.user.id }).pluck('room_id');
      expect(memberships.sort()).to.deep.equal(rooms.slice(0, 3).map((r) => r.id).sort());
    });

    it('when an admin acts over REST on one node and /admin on the other, then ADMIN_ACTION_RATE_LIMIT counts both (429 with Retry-After); reads are free', async () => {
      const [a, b] = await twoNodes();
      const admin = await registerAdmin(a);
      const member = await registerUser(a);
      const room = await createRoom(a, admin.accessToken);
      const control = await adminSocket(b, admin.accessToken);

      const first = await http(a, 'POST', '/api/admin/broadcast', { token: admin.accessToken, body: { content: 'one' } });
      const second = await request(control, 'admin:mute', { userId: member.user.id, roomId: room.id, minutes: 1 });
      const third = await http(a, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { name: 'renamed' } });
      const overBySocket = await request(control, 'admin:kick', { userId: member.user.id, roomId: room.id });
      const overByRest = await http(b, 'POST', `/api/rooms/${room.id}/members`, { token: admin.accessToken, body: { userId: member.user.id } });
      const read = await http(a, 'GET', '/api/admin/audit', { token: admin.accessToken });

      expect([first.status, codeOf(second), third.status]).to.deep.equal([202, 'ok', 200]);
      expect(codeOf(overBySocket)).to.equal('rate_limited');
      expect(overByRest.status).to.equal(429);
      expect(overByRest.body.error.code).to.equal('rate_limited');
      expect(Number(overByRest.headers.get('retry-after'))).to.be.within(1, 60);
      expect(read.status).to.equal(200);
      const other = await registerAdmin(a);
      expect((await http(b, 'POST', '/api/admin/broadcast', { token: other.accessToken, body: { content: 'other admin' } })).status).to.equal(202);
    });
  });
});
