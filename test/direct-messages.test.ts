import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { MembersPage, MessageResult, Room, RoomsPage } from '../server/protocol.js';
import { auditEntries } from './support/admin.js';
import { useRedisCluster } from './support/cluster.js';
import { connect, http, nextEvent, ok, registerAdmin, registerUser, request } from './support/util.js';

const openDm = (app: Parameters<typeof http>[0], token: string, userId: string) => http<{ room: Room }>(app, 'POST', '/api/dms', { token, body: { userId } });

describe('direct rooms: POST /api/dms', () => {
  const { node } = useRedisCluster('direct rooms');

  it('when both users open their direct room at the same moment on different nodes, then one room results, private, with exactly the two of them', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    for (let round = 0; round < 5; round++) {
      const [alice, bob] = await Promise.all([registerUser(a), registerUser(b)]);

      const [fromA, fromB] = await Promise.all([openDm(a, alice.accessToken, bob.user.id), openDm(b, bob.accessToken, alice.user.id)]);

      expect([fromA.status, fromB.status].sort()).to.deep.equal([200, 201]);
      expect(fromA.body.room.id).to.equal(fromB.body.room.id);
      expect(fromA.body.room).to.include({ visibility: 'private' });
      expect(fromA.body.room.dm).to.deep.equal({ userId: bob.user.id, username: bob.user.username });
      expect(fromB.body.room.dm).to.deep.equal({ userId: alice.user.id, username: alice.user.username });
      const members = await http<MembersPage>(a, 'GET', `/api/rooms/${fromA.body.room.id}/members`, { token: alice.accessToken });
      expect(members.body.members.map((m) => m.userId).sort()).to.deep.equal([alice.user.id, bob.user.id].sort());
      // Again later: the same room, 200.
      const again = await openDm(b, alice.accessToken, bob.user.id);
      expect(again.status).to.equal(200);
      expect(again.body.room.id).to.equal(fromA.body.room.id);
    }
  });

  it("lists the direct room in both users' room lists with the other's name, hides it from a third user, and carries messages between the pair", async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const [alice, bob, carol] = await Promise.all([registerUser(a), registerUser(b), registerUser(a)]);
    const { body: { room } } = await openDm(a, alice.accessToken, bob.user.id);

    const listOf = async (token: string) => (await http<RoomsPage>(a, 'GET', '/api/rooms?limit=200', { token })).body.rooms.find((r) => r.id === room.id);
    expect((await listOf(alice.accessToken))?.dm).to.deep.equal({ userId: bob.user.id, username: bob.user.username });
    expect((await listOf(bob.accessToken))?.dm).to.deep.equal({ userId: alice.user.id, username: alice.user.username });
    expect(await listOf(carol.accessToken)).to.equal(undefined);
    expect((await http(a, 'GET', `/api/rooms/${room.id}`, { token: carol.accessToken })).status).to.equal(404);

    const [aliceSocket, bobSocket, carolSocket] = await Promise.all([connect(a, { token: alice.accessToken }), connect(b, { token: bob.accessToken }), connect(a, { token: carol.accessToken })]);
    await ok(aliceSocket, 'room:join', { roomId: room.id });
    await ok(bobSocket, 'room:join', { roomId: room.id });
    const carolJoin = await request(carolSocket, 'room:join', { roomId: room.id });
    expect(!carolJoin.ok && carolJoin.error.code).to.equal('not_found');
    const heard = nextEvent<{ content: string }>(bobSocket, 'message:new');
    await ok<MessageResult>(aliceSocket, 'message:send', { roomId: room.id, content: 'psst', clientMsgId: randomUUID() });
    expect((await heard).content).to.equal('psst');
  });

  it('refuses oneself (400), an unknown user (404) and a banned user (403 forbidden, reason banned); the pair cannot invite, remove or leave', async () => {
    const a = await node('a');
    const admin = await registerAdmin(a);
    const [alice, bob, banned, carol] = await Promise.all([registerUser(a), registerUser(a), registerUser(a), registerUser(a)]);
    await http(a, 'PATCH', `/api/admin/users/${banned.user.id}`, { token: admin.accessToken, body: { banned: true } });

    const self = await openDm(a, alice.accessToken, alice.user.id);
    const unknown = await openDm(a, alice.accessToken, randomUUID());
    const refused = await openDm(a, alice.accessToken, banned.user.id);
    const bad = await http(a, 'POST', '/api/dms', { token: alice.accessToken, body: { userId: 'nope' } });

    expect([self.status, (self.body as unknown as { error: { code: string } }).error.code]).to.deep.equal([400, 'validation_failed']);
    expect(unknown.status).to.equal(404);
    expect(refused.status).to.equal(403);
    expect((refused.body as unknown as { error: { code: string; details: unknown } }).error).to.deep.include({ code: 'forbidden', details: { reason: 'banned' } });
    expect(bad.status).to.equal(400);

    const { body: { room } } = await openDm(a, alice.accessToken, bob.user.id);
    expect((await http(a, 'POST', `/api/rooms/${room.id}/members`, { token: alice.accessToken, body: { userId: carol.user.id } })).status).to.equal(403);
    expect((await http(a, 'DELETE', `/api/rooms/${room.id}/members/${bob.user.id}`, { token: alice.accessToken })).status).to.equal(403);
    expect((await http(a, 'POST', `/api/rooms/${room.id}/leave`, { token: bob.accessToken })).status).to.equal(403);
  });

  it('lets an admin moderate a direct room (see it, delete a message), audited', async () => {
    const a = await node('a');
    const admin = await registerAdmin(a);
    const [alice, bob] = await Promise.all([registerUser(a), registerUser(a)]);
    const { body: { room } } = await openDm(a, alice.accessToken, bob.user.id);
    const aliceSocket = await connect(a, { token: alice.accessToken });
    await ok(aliceSocket, 'room:join', { roomId: room.id });
    const { message } = await ok<MessageResult>(aliceSocket, 'message:send', { roomId: room.id, content: 'spam', clientMsgId: randomUUID() });

    expect((await http(a, 'GET', `/api/rooms/${room.id}/messages`, { token: admin.accessToken })).status).to.equal(200);
    expect((await http(a, 'DELETE', `/api/admin/messages/${message.id}`, { token: admin.accessToken })).status).to.equal(204);

    const [entry] = await auditEntries(a, admin.accessToken, 'message_delete');
    expect(entry).to.include({ actorId: admin.user.id, targetId: message.id });
  });
});
