// Kicks that keep a user out for a while, mutes the muted user hears of, and
// bans that end by themselves: each through the real wire, on real
// PostgreSQL, and across two nodes over Redis where a node could miss it.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { AuthResponse, Message, RoomInfo, RoomKickedEvent, RoomMutedEvent, User } from '../server/protocol.js';
import { adminSocket, auditEntries, login } from './support/admin.js';
import { useRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { closeClients, sdkClient } from './support/sdk.js';
import { collect, connect, createRoom, http, nextEvent, ok, registerAdmin, registerUser, request, startNode, stopNode, useNode, waitFor } from './support/util.js';

const knex = () => environment.get().database.knex;

/** Moves a user's timed ban into the past, as if its minutes had gone by. */
async function letBanRunOut(userId: string): Promise<void> {
  await knex()('users').where({ id: userId }).update({ banned_until: new Date(Date.now() - 1_000) });
}

describe('moderation sanctions', () => {
  describe('on one node', () => {
    const node = useNode({ MESSAGE_RATE_LIMIT: '0', KICK_BLOCK_SECONDS: '600', BAN_SWEEP_SECONDS: '1' });
    afterEach(closeClients);

    /** An admin with an /admin socket, and a member whose socket joined the admin's room and waits for room:kicked. */
    async function memberAboutToBeKicked() {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const socket = await connect(node.app, { token: member.accessToken });
      await ok(socket, 'room:join', { roomId: room.id });
      const kicked = nextEvent<RoomKickedEvent>(socket, 'room:kicked');
      const control = await adminSocket(node.app, admin.accessToken);
      return { admin, member, room, socket, kicked, control };
    }

    it('when an admin kicks a member, then their socket gets room:kicked with until, the membership is gone, and join and send answer forbidden kicked', async () => {
      const { admin, member, room, socket, kicked, control } = await memberAboutToBeKicked();

      const started = Date.now();
      await ok(control, 'admin:kick', { userId: member.user.id, roomId: room.id });

      const event = await kicked;
      expect(event.roomId).to.equal(room.id);
      // The default block (KICK_BLOCK_SECONDS = 600) from now.
      expect(Date.parse(event.until!) - started).to.be.within(590_000, 610_000);
      const seen = await http<{ room: RoomInfo }>(node.app, 'GET', `/api/rooms/${room.id}`, { token: member.accessToken });
      expect(seen.body.room.joined).to.equal(false);
      const join = await request(socket, 'room:join', { roomId: room.id });
      expect(!join.ok && join.error).to.deep.include({ code: 'forbidden', details: { reason: 'kicked', until: event.until } });
      const send = await request(socket, 'message:send', { roomId: room.id, content: 'let me back', clientMsgId: randomUUID() });
      expect(!send.ok && send.error.code).to.equal('forbidden');
      const history = await http<{ messages: Message[] }>(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: admin.accessToken });
      expect(history.body.messages).to.have.length(0);
      const [entry] = (await auditEntries(node.app, admin.accessToken, 'kick')).filter((e) => e.targetId === member.user.id);
      expect(entry!.details).to.deep.include({ roomId: room.id, sockets: 1, membershipRemoved: true, until: event.until });
    });

    it('when a kick gives minutes 0, then it only removes: the member may join and send again at once', async () => {
      const { admin, member, room, socket, kicked, control } = await memberAboutToBeKicked();

      await ok(control, 'admin:kick', { userId: member.user.id, roomId: room.id, minutes: 0 });

      expect(await kicked).to.deep.equal({ roomId: room.id, until: null });
      await ok(socket, 'room:join', { roomId: room.id });
      await ok(socket, 'message:send', { roomId: room.id, content: 'back again', clientMsgId: randomUUID() });
    });

    it('when a member of a private room is kicked, then the room is hidden from them (the membership row is gone)', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      await http(node.app, 'POST', `/api/rooms/${room.id}/members`, { token: admin.accessToken, body: { userId: member.user.id } });
      const control = await adminSocket(node.app, admin.accessToken);

      await ok(control, 'admin:kick', { userId: member.user.id, roomId: room.id, minutes: 0 });

      const res = await http(node.app, 'GET', `/api/rooms/${room.id}`, { token: member.accessToken });
      expect(res.status).to.equal(404);
    });

    it('when the node restarts, then a kick still keeps its user out (the block is in the database)', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const control = await adminSocket(node.app, admin.accessToken);
      await ok(control, 'admin:kick', { userId: member.user.id, roomId: room.id, minutes: 5 });
      const fresh = await startNode({ MESSAGE_RATE_LIMIT: '0' });

      const socket = await connect(fresh, { token: member.accessToken });
      const join = await request(socket, 'room:join', { roomId: room.id });

      expect(!join.ok && join.error.code).to.equal('forbidden');
      expect(!join.ok && (join.error.details as { reason: string }).reason).to.equal('kicked');
      await stopNode(fresh);
    });

    it('when an admin mutes and unmutes a member, then every socket of theirs gets room:muted with until, then with null', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      // One device in the room, one not: a mute holds for both.
      const [inRoom, elsewhere] = await Promise.all([connect(node.app, { token: member.accessToken }), connect(node.app, { token: member.accessToken })]);
      await ok(inRoom, 'room:join', { roomId: room.id });
      const events = [collect<RoomMutedEvent>(inRoom, 'room:muted'), collect<RoomMutedEvent>(elsewhere, 'room:muted')];
      const control = await adminSocket(node.app, admin.accessToken);

      const started = Date.now();
      await ok(control, 'admin:mute', { userId: member.user.id, roomId: room.id, minutes: 10 });
      await waitFor(() => events.every((list) => list.length === 1), 2_000, 'room:muted on both sockets');
      await ok(control, 'admin:mute', { userId: member.user.id, roomId: room.id, minutes: 0 });
      await waitFor(() => events.every((list) => list.length === 2), 2_000, 'the lift on both sockets');

      for (const [set, lifted] of events) {
        expect(set!.roomId).to.equal(room.id);
        expect(Date.parse(set!.until!) - started).to.be.within(590_000, 610_000);
        expect(lifted).to.deep.equal({ roomId: room.id, until: null });
      }
    });

    it('when a ban carries minutes, then it holds until then and, once run out, login and tokens work again and an unban without actor is audited', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const control = await adminSocket(node.app, admin.accessToken);

      await ok(control, 'admin:ban', { userId: member.user.id, banned: true, minutes: 60 });

      const refused = await login(node.app, member.user.username, member.password);
      expect(refused.status).to.equal(403);
      expect(refused.body.error!.code).to.equal('banned');
      const listed = await http<{ users: User[] }>(node.app, 'GET', `/api/admin/users?q=${member.user.username}`, { token: admin.accessToken });
      expect(listed.body.users[0]).to.include({ banned: true });
      expect(Date.parse(listed.body.users[0]!.bannedUntil!) - Date.now()).to.be.within(59 * 60_000, 61 * 60_000);

      await letBanRunOut(member.user.id);

      // At once, before any sweep: an expired ban is no ban.
      const back = await login(node.app, member.user.username, member.password);
      expect(back.status).to.equal(200);
      expect(back.body.user).to.include({ banned: false, bannedUntil: null });
      const me = await http<{ user: User }>(node.app, 'GET', '/api/me', { token: back.body.accessToken });
      expect(me.status).to.equal(200);
      await connect(node.app, { token: back.body.accessToken });
      // The node's sweep (every second here) then lifts it in the database and audits it.
      await waitFor(async () => (await knex()('users').where({ id: member.user.id }).first()).banned === false, 5_000, 'the sweep');
      const [entry, ...more] = (await auditEntries(node.app, admin.accessToken, 'unban')).filter((e) => e.targetId === member.user.id);
      expect(more).to.have.length(0);
      expect(entry).to.include({ actorId: null, targetType: 'user' });
      expect(entry!.details).to.include({ expired: true });
      const row = await knex()('users').where({ id: member.user.id }).first();
      expect(row).to.include({ banned: false, banned_until: null });
    });

    it('PATCH /api/admin/users/:id takes bannedUntil (in the future, with banned: true only)', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const until = new Date(Date.now() + 3_600_000).toISOString();

      const past = await http(node.app, 'PATCH', `/api/admin/users/${member.user.id}`, { token: admin.accessToken, body: { banned: true, bannedUntil: '2001-01-01T00:00:00Z' } });
      const alone = await http(node.app, 'PATCH', `/api/admin/users/${member.user.id}`, { token: admin.accessToken, body: { role: 'member', bannedUntil: until } });
      const timed = await http<{ user: User }>(node.app, 'PATCH', `/api/admin/users/${member.user.id}`, { token: admin.accessToken, body: { banned: true, bannedUntil: until } });

      expect([past.status, alone.status]).to.deep.equal([400, 400]);
      expect(timed.status).to.equal(200);
      expect(timed.body.user).to.include({ banned: true, bannedUntil: until });
      const [entry] = (await auditEntries(node.app, admin.accessToken, 'ban')).filter((e) => e.targetId === member.user.id);
      expect(entry!.details).to.deep.equal({ until });
    });

    it('SDK: a kicked room emits kicked, rejects with forbidden kicked, and is not joined again after a reconnect', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken);
      const client = sdkClient(node.app);
      await client.login(member.user.username, member.password);
      const handle = await client.join(room.id);
      const kicked = new Promise<RoomKickedEvent>((resolve) => handle.on('kicked', resolve));
      const control = await adminSocket(node.app, admin.accessToken);

      await ok(control, 'admin:kick', { userId: member.user.id, roomId: room.id, minutes: 1 });

      expect((await kicked).roomId).to.equal(room.id);
      expect(handle.active).to.equal(false);
      expect(client.room(room.id)).to.equal(undefined);
      const send = await handle.send('still here?').then(() => null, (err: unknown) => err as { code: string; details: { reason: string } });
      expect(send).to.deep.include({ code: 'forbidden', details: { reason: 'kicked', until: (await kicked).until } });
      // A reconnect joins the rooms the client holds; the kicked one is not among them.
      const other = await createRoom(node.app, admin.accessToken);
      await client.join(other.id);
      node.app.io.of('/chat').disconnectSockets();
      await waitFor(() => client.state === 'connected', 8_000, 'the reconnect');
      await waitFor(async () => (await node.app.io.of('/chat').in(`room:${other.id}`).fetchSockets()).length === 1, 5_000, 'the rejoin of the other room');
      expect(await node.app.io.of('/chat').in(`room:${room.id}`).fetchSockets()).to.have.length(0);
      const again = await client.join(room.id).then(() => null, (err: unknown) => err as { code: string; details: { reason: string } });
      expect(again).to.deep.include({ code: 'forbidden' });
      expect(again!.details.reason).to.equal('kicked');
    });
  });

  describe('across two nodes', () => {
    const { node } = useRedisCluster('moderation sanctions across two nodes');

    async function pair(): Promise<{ a: RoomcastApp; b: RoomcastApp }> {
      const [a, b] = await Promise.all([node('a', { BAN_SWEEP_SECONDS: '1' }), node('b', { BAN_SWEEP_SECONDS: '1' })]);
      return { a, b };
    }

    it('when an admin on node A kicks a user whose socket is on node B, then it gets room:kicked and node B refuses the rejoin', async () => {
      const { a, b } = await pair();
      const admin = await registerAdmin(a);
      const member = await registerUser(b);
      const room = await createRoom(a, admin.accessToken);
      const socket = await connect(b, { token: member.accessToken });
      await ok(socket, 'room:join', { roomId: room.id });
      const kicked = nextEvent<RoomKickedEvent>(socket, 'room:kicked');
      const control = await adminSocket(a, admin.accessToken);

      await ok(control, 'admin:kick', { userId: member.user.id, roomId: room.id, minutes: 2 });

      expect((await kicked).roomId).to.equal(room.id);
      const join = await request(socket, 'room:join', { roomId: room.id });
      expect(!join.ok && join.error.code).to.equal('forbidden');
    });

    it('when an admin on node A mutes a user whose socket is on node B, then it gets room:muted', async () => {
      const { a, b } = await pair();
      const admin = await registerAdmin(a);
      const member = await registerUser(b);
      const room = await createRoom(a, admin.accessToken);
      const socket = await connect(b, { token: member.accessToken });
      const muted = nextEvent<RoomMutedEvent>(socket, 'room:muted');
      const control = await adminSocket(a, admin.accessToken);

      await ok(control, 'admin:mute', { userId: member.user.id, roomId: room.id, minutes: 3 });

      const event = await muted;
      expect(event.roomId).to.equal(room.id);
      expect(event.until).to.be.a('string');
    });

    it('when a timed ban runs out, then the nodes lift it by themselves and exactly one unban is audited', async () => {
      const { a } = await pair();
      const admin = await registerAdmin(a);
      const member = await registerUser(a);
      const res = await http<{ user: User }>(a, 'PATCH', `/api/admin/users/${member.user.id}`, {
        token: admin.accessToken,
        body: { banned: true, bannedUntil: new Date(Date.now() + 3_600_000).toISOString() },
      });
      expect(res.status).to.equal(200);

      await letBanRunOut(member.user.id);

      // Both nodes sweep every second: the flag flips by itself.
      await waitFor(async () => (await knex()('users').where({ id: member.user.id }).first()).banned === false, 5_000, 'the sweep');
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // a further sweep on each node finds nothing more
      const unbans = (await auditEntries(a, admin.accessToken, 'unban')).filter((e) => e.targetId === member.user.id);
      expect(unbans).to.have.length(1);
      expect(unbans[0]).to.include({ actorId: null });
      const back = await http<AuthResponse>(a, 'POST', '/api/auth/login', { body: { login: member.user.username, password: member.password, client: 'native' } });
      expect(back.status).to.equal(200);
    });
  });
});
