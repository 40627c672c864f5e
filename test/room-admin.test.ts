import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message, PresenceEvent, Room } from '../server/protocol.js';
import { auditEntries } from './support/admin.js';
import { collect, connect, createRoom, http, membersInRoom, nextEvent, ok, registerAdmin, registerUser, request, sleep, useNode, usersWithRoom, waitFor } from './support/util.js';

const send = (socket: Parameters<typeof request>[0], roomId: string, content = 'hello') =>
  request<{ message: Message }>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() });

describe('room administration', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  describe('PATCH /api/rooms/:id', () => {
    it('renames the room, answers it, tells its sockets room:updated, and is audited', async () => {
      const admin = await registerAdmin(node.app);
      const { room, sockets: [socket] } = await membersInRoom([node.app]);
      const updated = nextEvent<Room>(socket, 'room:updated');

      const res = await http<{ room: Room }>(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { name: 'Renamed' } });

      expect(res.status).to.equal(200);
      expect(res.body.room).to.include({ id: room.id, name: 'Renamed', readOnly: false, archived: false });
      expect(await updated).to.include({ id: room.id, name: 'Renamed' });
      const [entry] = await auditEntries(node.app, admin.accessToken, 'room_update');
      expect(entry).to.include({ actorId: admin.user.id, targetType: 'room', targetId: room.id });
      expect(entry!.details).to.deep.equal({ name: 'Renamed' });
    });

    it('answers 400 for an empty or unknown field, 404 for an unknown room', async () => {
      const admin = await registerAdmin(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const patch = (id: string, body: unknown) => http(node.app, 'PATCH', `/api/rooms/${id}`, { token: admin.accessToken, body });

      expect((await patch(room.id, {})).status).to.equal(400);
      expect((await patch(room.id, { visibility: 'private' })).status).to.equal(400);
      expect((await patch(room.id, { name: '' })).status).to.equal(400);
      expect((await patch(randomUUID(), { readOnly: true })).status).to.equal(404);
    });
  });

  describe('read-only rooms', () => {
    it('when a member posts, then the ack is read_only; an admin posts', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken, { readOnly: true });
      const memberSocket = await connect(node.app, { token: member.accessToken });
      const adminChat = await connect(node.app, { token: admin.accessToken });
      await ok(memberSocket, 'room:join', { roomId: room.id });
      const seen = collect<Message>(memberSocket, 'message:new');

      const refused = await send(memberSocket, room.id);
      const posted = await send(adminChat, room.id, 'announcement');

      expect(!refused.ok && refused.error.code).to.equal('read_only');
      expect(posted.ok && posted.message.seq).to.equal(1);
      await waitFor(() => seen.length === 1, 2_000, 'announcement');
      expect(seen[0]!.content).to.equal('announcement');
    });

    it('a room made read-only by PATCH refuses members from then on, and lifting it lets them post again', async () => {
      const admin = await registerAdmin(node.app);
      const { room, sockets: [socket] } = await usersWithRoom([node.app]);
      expect((await send(socket, room.id)).ok).to.equal(true);

      await http(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { readOnly: true } });
      const refused = await send(socket, room.id);
      await http(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { readOnly: false } });
      const allowed = await send(socket, room.id);

      expect(!refused.ok && refused.error.code).to.equal('read_only');
      expect(allowed.ok && allowed.message.seq).to.equal(2);
    });
  });

  describe('archived rooms', () => {
    it('nobody posts, admins included; history stays readable', async () => {
      const admin = await registerAdmin(node.app);
      const { room, users: [member], sockets: [memberSocket] } = await usersWithRoom([node.app]);
      const adminChat = await connect(node.app, { token: admin.accessToken });
      await send(memberSocket, room.id, 'before the archive');

      const res = await http<{ room: Room }>(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { archived: true } });
      const fromMember = await send(memberSocket, room.id);
      const fromAdmin = await send(adminChat, room.id);

      expect(res.body.room.archived).to.equal(true);
      expect(!fromMember.ok && fromMember.error.code).to.equal('read_only');
      expect(!fromAdmin.ok && fromAdmin.error.code).to.equal('read_only');
      const rest = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: member.accessToken });
      expect(rest.body.messages.map((m: Message) => m.content)).to.deep.equal(['before the archive']);
      const viaSocket = await ok<{ messages: Message[] }>(memberSocket, 'room:history', { roomId: room.id });
      expect(viaSocket.messages).to.have.length(1);
      const joined = await ok<{ room: Room }>(memberSocket, 'room:join', { roomId: room.id });
      expect(joined.room.archived).to.equal(true);
    });
  });

  describe('private rooms and their members', () => {
    it('an outsider gets not_found on list, get, history and join; once added, all work; once removed, not_found again', async () => {
      const admin = await registerAdmin(node.app);
      const user = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      const socket = await connect(node.app, { token: user.accessToken });
      const visible = async () => {
        const list = await http<{ rooms: Room[] }>(node.app, 'GET', '/api/rooms', { token: user.accessToken });
        const get = await http(node.app, 'GET', `/api/rooms/${room.id}`, { token: user.accessToken });
        const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: user.accessToken });
        const join = await request(socket, 'room:join', { roomId: room.id });
        if (join.ok) await ok(socket, 'room:leave', { roomId: room.id });
        return {
          listed: list.body.rooms.some((r) => r.id === room.id),
          get: get.status,
          history: history.status,
          join: join.ok ? 'ok' : join.error.code,
        };
      };

      const before = await visible();
      const added = await http(node.app, 'POST', `/api/rooms/${room.id}/members`, { token: admin.accessToken, body: { userId: user.user.id } });
      const asMember = await visible();
      const removed = await http(node.app, 'DELETE', `/api/rooms/${room.id}/members/${user.user.id}`, { token: admin.accessToken });
      const after = await visible();

      expect(before).to.deep.equal({ listed: false, get: 404, history: 404, join: 'not_found' });
      expect(added.status).to.equal(204);
      expect(asMember).to.deep.equal({ listed: true, get: 200, history: 200, join: 'ok' });
      expect(removed.status).to.equal(204);
      expect(after).to.deep.equal({ listed: false, get: 404, history: 404, join: 'not_found' });
      const [add] = await auditEntries(node.app, admin.accessToken, 'member_add');
      const [remove] = await auditEntries(node.app, admin.accessToken, 'member_remove');
      expect(add).to.include({ actorId: admin.user.id, targetType: 'room', targetId: room.id });
      expect(add!.details).to.deep.equal({ userId: user.user.id });
      expect(remove).to.include({ actorId: admin.user.id, targetId: room.id });
      expect(remove!.details).to.include({ userId: user.user.id, removed: true });
    });

    it("removing a member takes their sockets out of the room at once: no more messages, presence goes offline, and they can't post", async () => {
      const admin = await registerAdmin(node.app);
      const [user, witness] = await Promise.all([registerUser(node.app), registerUser(node.app)]);
      const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      for (const u of [user, witness]) await http(node.app, 'POST', `/api/rooms/${room.id}/members`, { token: admin.accessToken, body: { userId: u.user.id } });
      const devices = await Promise.all([connect(node.app, { token: user.accessToken }), connect(node.app, { token: user.accessToken })]);
      const witnessSocket = await connect(node.app, { token: witness.accessToken });
      for (const s of [...devices, witnessSocket]) await ok(s, 'room:join', { roomId: room.id });
      const offline = nextEvent<PresenceEvent>(witnessSocket, 'presence');
      const received = devices.map((s) => collect<Message>(s, 'message:new'));

      await http(node.app, 'DELETE', `/api/rooms/${room.id}/members/${user.user.id}`, { token: admin.accessToken });
      await ok(witnessSocket, 'message:send', { roomId: room.id, content: 'members only', clientMsgId: randomUUID() });
      const attempt = await send(devices[0]!, room.id);

      expect(await offline).to.include({ roomId: room.id, userId: user.user.id, online: false });
      await sleep(100);
      expect(received.map((r) => r.length)).to.deep.equal([0, 0]);
      expect(!attempt.ok && attempt.error.code).to.equal('not_found');
    });

    it('answers 404 for an unknown room or user, 400 for a bad userId', async () => {
      const admin = await registerAdmin(node.app);
      const user = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      const add = (roomId: string, userId: unknown) => http(node.app, 'POST', `/api/rooms/${roomId}/members`, { token: admin.accessToken, body: { userId } });

      expect((await add(randomUUID(), user.user.id)).status).to.equal(404);
      expect((await add(room.id, randomUUID())).status).to.equal(404);
      expect((await add(room.id, 'nobody')).status).to.equal(400);
      expect((await http(node.app, 'DELETE', `/api/rooms/${room.id}/members/${randomUUID()}`, { token: admin.accessToken })).status).to.equal(404);
      expect((await http(node.app, 'DELETE', `/api/rooms/${randomUUID()}/members/${user.user.id}`, { token: admin.accessToken })).status).to.equal(404);
    });
  });
});
