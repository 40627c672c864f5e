import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { z } from 'zod';
import type { Ack, AdminClientToServerEvents, PresenceEvent, SessionRevokedEvent, StatsResult, SystemBroadcastEvent } from '../server/protocol.js';
import { eventHandler } from '../server/realtime/event-handler.js';
import { adminSocket, auditEntries, login, refusedHandshake, serverDisconnect } from './support/admin.js';
import { environment } from './support/environment.js';
import { collect, connect, createRoom, http, nextEvent, ok, registerAdmin, registerUser, request, sleep, testLogger, useNode, usersWithRoom, waitFor } from './support/util.js';

describe('/admin namespace', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0', NODE_ID: 'admin-ns-node' });

  describe('handshake', () => {
    it('when a member connects, then connect_error is forbidden; an admin connects', async () => {
      const member = await registerUser(node.app);
      const admin = await registerAdmin(node.app);

      const refused = await refusedHandshake(node.app, { token: member.accessToken, namespace: '/admin' });
      const socket = await adminSocket(node.app, admin.accessToken);

      expect(refused).to.deep.equal({ message: 'forbidden', code: 'forbidden' });
      expect(socket.connected).to.equal(true);
    });

    it('the per-event role check answers forbidden to a member and never runs the handler', async () => {
      let ran = false;
      const handler = eventHandler<AdminClientToServerEvents, 'admin:stats', z.ZodObject>(
        { id: 's1', data: { userId: randomUUID(), username: 'm', role: 'member', sessionId: null, tokenExpiresAt: Date.now() + 60_000 } },
        testLogger(),
        'admin:stats',
        { schema: z.object({}), role: 'admin' },
        () => {
          ran = true;
          return { nodes: [], sockets: 0, users: 0 };
        },
      );
      const ack = await new Promise<Ack>((resolve) => handler({}, resolve));
      expect(ack).to.deep.include({ ok: false });
      expect(!ack.ok && ack.error.code).to.equal('forbidden');
      expect(ran).to.equal(false);
    });
  });

  describe('admin:broadcast', () => {
    it('reaches every /chat socket as system:broadcast and answers how many were targeted', async () => {
      const admin = await registerAdmin(node.app);
      const users = await Promise.all([registerUser(node.app), registerUser(node.app)]);
      const chats = await Promise.all([...users.map((u) => connect(node.app, { token: u.accessToken })), connect(node.app, { token: users[0]!.accessToken })]);
      const received = chats.map((s) => collect<SystemBroadcastEvent>(s, 'system:broadcast'));
      const control = await adminSocket(node.app, admin.accessToken);

      const ack = await ok<{ delivered: number }>(control, 'admin:broadcast', { content: 'maintenance at noon' });

      expect(ack.delivered).to.equal(3);
      await waitFor(() => received.every((r) => r.length === 1), 2_000, 'broadcast on every socket');
      for (const [event] of received) {
        expect(event).to.include({ content: 'maintenance at noon', roomId: null });
        expect(new Date(event!.createdAt).toISOString()).to.equal(event!.createdAt);
      }
      const [entry] = await auditEntries(node.app, admin.accessToken, 'broadcast');
      expect(entry).to.include({ actorId: admin.user.id, targetType: 'broadcast', targetId: 'all' });
      expect(entry!.details).to.deep.include({ content: 'maintenance at noon', delivered: 3 });
    });

    it('with a roomId, reaches only the sockets in that room', async () => {
      const admin = await registerAdmin(node.app);
      const { room, sockets: [insideSocket, outsideSocket] } = await usersWithRoom([node.app, node.app]);
      await ok(insideSocket, 'room:join', { roomId: room.id });
      const toInside = collect<SystemBroadcastEvent>(insideSocket, 'system:broadcast');
      const toOutside = collect<SystemBroadcastEvent>(outsideSocket, 'system:broadcast');
      const control = await adminSocket(node.app, admin.accessToken);

      const ack = await ok<{ delivered: number }>(control, 'admin:broadcast', { content: 'room news', roomId: room.id });

      expect(ack.delivered).to.equal(1);
      await waitFor(() => toInside.length === 1, 2_000, 'room broadcast');
      expect(toInside[0]).to.include({ content: 'room news', roomId: room.id });
      await sleep(100);
      expect(toOutside).to.have.length(0);
    });

    it('answers validation_failed for empty content and not_found for an unknown room', async () => {
      const admin = await registerAdmin(node.app);
      const control = await adminSocket(node.app, admin.accessToken);

      const empty = await request(control, 'admin:broadcast', { content: '' });
      const unknownRoom = await request(control, 'admin:broadcast', { content: 'x', roomId: randomUUID() });
      const noPayload = await request(control, 'admin:broadcast');

      expect(!empty.ok && empty.error.code).to.equal('validation_failed');
      expect(!unknownRoom.ok && unknownRoom.error.code).to.equal('not_found');
      expect(!noPayload.ok && noPayload.error.code).to.equal('validation_failed');
    });
  });

  describe('admin:kick', () => {
    it("removes every socket of the user from the room, tells the room they went offline, and keeps the user's other rooms", async () => {
      const admin = await registerAdmin(node.app);
      const [target, witness] = await Promise.all([registerUser(node.app), registerUser(node.app)]);
      const room = await createRoom(node.app, witness.accessToken);
      const otherRoom = await createRoom(node.app, witness.accessToken);
      const devices = await Promise.all([connect(node.app, { token: target.accessToken }), connect(node.app, { token: target.accessToken })]);
      const witnessSocket = await connect(node.app, { token: witness.accessToken });
      for (const s of [...devices, witnessSocket]) await ok(s, 'room:join', { roomId: room.id });
      await ok(devices[0]!, 'room:join', { roomId: otherRoom.id });
      const presence = collect<PresenceEvent>(witnessSocket, 'presence');
      const selfNotice = nextEvent<PresenceEvent>(devices[1]!, 'presence');
      const control = await adminSocket(node.app, admin.accessToken);

      await ok(control, 'admin:kick', { userId: target.user.id, roomId: room.id });

      await waitFor(() => presence.some((p) => p.userId === target.user.id && !p.online), 2_000, 'presence offline');
      expect(await selfNotice).to.deep.equal({ roomId: room.id, userId: target.user.id, username: target.user.username, online: false });
      const newMessages = devices.map((s) => collect(s, 'message:new'));
      await ok(witnessSocket, 'message:send', { roomId: room.id, content: 'after the kick', clientMsgId: randomUUID() });
      await ok(witnessSocket, 'message:send', { roomId: otherRoom.id, content: 'other room', clientMsgId: randomUUID() });
      await waitFor(() => newMessages[0]!.length === 1, 2_000, 'other room message');
      expect(newMessages[0]).to.have.length(1);
      expect(newMessages[1]).to.have.length(0);
      const typing = await request(devices[0]!, 'typing', { roomId: room.id, typing: true });
      expect(!typing.ok && typing.error.code).to.equal('not_found');
      const [entry] = await auditEntries(node.app, admin.accessToken, 'kick');
      expect(entry).to.include({ actorId: admin.user.id, targetType: 'user', targetId: target.user.id });
      expect(entry!.details).to.deep.include({ roomId: room.id, sockets: 2 });
    });

    it('answers not_found for an unknown user or room', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, member.accessToken);
      const control = await adminSocket(node.app, admin.accessToken);

      const unknownUser = await request(control, 'admin:kick', { userId: randomUUID(), roomId: room.id });
      const unknownRoom = await request(control, 'admin:kick', { userId: member.user.id, roomId: randomUUID() });

      expect(!unknownUser.ok && unknownUser.error.code).to.equal('not_found');
      expect(!unknownRoom.ok && unknownRoom.error.code).to.equal('not_found');
    });
  });

  describe('admin:ban', () => {
    it('ends every socket of the user within 1 s with session:revoked banned; refresh, login and handshake then fail', async () => {
      const admin = await registerAdmin(node.app);
      const target = await registerUser(node.app);
      const secondLogin = await login(node.app, target.user.username, target.password);
      const devices = await Promise.all([
        connect(node.app, { token: target.accessToken }),
        connect(node.app, { token: secondLogin.body.accessToken, transports: ['polling'] }),
      ]);
      const revoked = devices.map((s) => nextEvent<SessionRevokedEvent>(s, 'session:revoked', 2_000));
      const disconnected = devices.map((s) => serverDisconnect(s, 2_000));
      const control = await adminSocket(node.app, admin.accessToken);

      const started = Date.now();
      await ok(control, 'admin:ban', { userId: target.user.id, banned: true });

      expect(await Promise.all(revoked)).to.deep.equal([{ reason: 'banned' }, { reason: 'banned' }]);
      for (const { at, reason } of await Promise.all(disconnected)) {
        expect(reason).to.equal('io server disconnect');
        expect(at - started).to.be.below(1_000);
      }
      const refresh = await http(node.app, 'POST', '/api/auth/refresh', { body: { refreshToken: target.refreshToken } });
      expect(refresh.status).to.be.oneOf([401, 403]);
      const again = await login(node.app, target.user.username, target.password);
      expect(again.status).to.equal(403);
      expect(again.body.error?.code).to.equal('banned');
      expect(await refusedHandshake(node.app, { token: secondLogin.body.accessToken })).to.deep.equal({ message: 'banned', code: 'banned' });
      const me = await http(node.app, 'GET', '/api/me', { token: target.accessToken });
      expect(me.body.error.code).to.equal('banned');
      const [entry] = await auditEntries(node.app, admin.accessToken, 'ban');
      expect(entry).to.include({ actorId: admin.user.id, targetType: 'user', targetId: target.user.id });
    });

    it('banned false lifts the ban: the user signs in again, and the unban is audited', async () => {
      const admin = await registerAdmin(node.app);
      const target = await registerUser(node.app);
      const control = await adminSocket(node.app, admin.accessToken);
      await ok(control, 'admin:ban', { userId: target.user.id, banned: true });

      await ok(control, 'admin:ban', { userId: target.user.id, banned: false });

      const again = await login(node.app, target.user.username, target.password);
      expect(again.status).to.equal(200);
      expect(again.body.user.banned).to.equal(false);
      await connect(node.app, { token: again.body.accessToken });
      const [entry] = await auditEntries(node.app, admin.accessToken, 'unban');
      expect(entry).to.include({ actorId: admin.user.id, targetId: target.user.id });
    });

    it('an admin cannot ban themselves (forbidden, nothing changes)', async () => {
      const admin = await registerAdmin(node.app);
      const control = await adminSocket(node.app, admin.accessToken);

      const ack = await request(control, 'admin:ban', { userId: admin.user.id, banned: true });

      expect(!ack.ok && ack.error.code).to.equal('forbidden');
      expect(control.connected).to.equal(true);
      expect((await http(node.app, 'GET', '/api/me', { token: admin.accessToken })).body.user.banned).to.equal(false);
    });
  });

  describe('admin:mute', () => {
    it('mutes the user in that room only, and minutes 0 lifts it; both are audited', async () => {
      const admin = await registerAdmin(node.app);
      const target = await registerUser(node.app);
      const room = await createRoom(node.app, target.accessToken);
      const elsewhere = await createRoom(node.app, target.accessToken);
      const socket = await connect(node.app, { token: target.accessToken });
      const control = await adminSocket(node.app, admin.accessToken);

      await ok(control, 'admin:mute', { userId: target.user.id, roomId: room.id, minutes: 5 });
      const muted = await request(socket, 'message:send', { roomId: room.id, content: 'hi', clientMsgId: randomUUID() });
      const other = await request(socket, 'message:send', { roomId: elsewhere.id, content: 'hi', clientMsgId: randomUUID() });
      await ok(control, 'admin:mute', { userId: target.user.id, roomId: room.id, minutes: 0 });
      const lifted = await request(socket, 'message:send', { roomId: room.id, content: 'hi again', clientMsgId: randomUUID() });

      expect(!muted.ok && muted.error.code).to.equal('muted');
      expect(other.ok).to.equal(true);
      expect(lifted.ok).to.equal(true);
      const entries = (await auditEntries(node.app, admin.accessToken, 'mute')).filter((e) => e.targetId === target.user.id);
      expect(entries.map((e) => e.details.minutes)).to.deep.equal([0, 5]);
      expect(entries[1]!.details).to.include({ roomId: room.id });
    });

    it('answers validation_failed for negative or fractional minutes and not_found for an unknown room', async () => {
      const admin = await registerAdmin(node.app);
      const target = await registerUser(node.app);
      const control = await adminSocket(node.app, admin.accessToken);

      const negative = await request(control, 'admin:mute', { userId: target.user.id, roomId: randomUUID(), minutes: -1 });
      const fraction = await request(control, 'admin:mute', { userId: target.user.id, roomId: randomUUID(), minutes: 1.5 });
      const unknownRoom = await request(control, 'admin:mute', { userId: target.user.id, roomId: randomUUID(), minutes: 1 });

      expect(!negative.ok && negative.error.code).to.equal('validation_failed');
      expect(!fraction.ok && fraction.error.code).to.equal('validation_failed');
      expect(!unknownRoom.ok && unknownRoom.error.code).to.equal('not_found');
    });
  });

  describe('admin:stats', () => {
    it("answers this node's sockets, rooms and memory, and the distinct connected users", async () => {
      const admin = await registerAdmin(node.app);
      const [a, b] = await Promise.all([registerUser(node.app), registerUser(node.app)]);
      const room = await createRoom(node.app, a.accessToken);
      const sockets = await Promise.all([connect(node.app, { token: a.accessToken }), connect(node.app, { token: a.accessToken }), connect(node.app, { token: b.accessToken })]);
      await ok(sockets[0]!, 'room:join', { roomId: room.id });
      const control = await adminSocket(node.app, admin.accessToken);

      const stats = await ok<StatsResult>(control, 'admin:stats', {});
      const withoutPayload = (await (control as unknown as Socket).timeout(5_000).emitWithAck('admin:stats')) as StatsResult;

      expect(stats).to.have.all.keys('ok', 'nodes', 'sockets', 'users');
      expect(stats.nodes).to.have.length(1);
      expect(stats.nodes[0]).to.have.all.keys('id', 'sockets', 'rooms', 'rssBytes');
      expect(stats.nodes[0]).to.include({ id: 'admin-ns-node', sockets: 3, rooms: 1 });
      expect(stats.nodes[0]!.rssBytes).to.be.a('number').above(0);
      expect(stats).to.include({ sockets: 3, users: 2 });
      expect(withoutPayload.sockets).to.equal(3);
    });
  });

  it('the audit trail is stored in the database with the acting admin', async () => {
    const admin = await registerAdmin(node.app);
    const target = await registerUser(node.app);
    const control = await adminSocket(node.app, admin.accessToken);
    await ok(control, 'admin:ban', { userId: target.user.id, banned: true });

    const rows = (await environment.get().database.knex('audit_log').where({ target_id: target.user.id }).select('actor_id', 'action')) as {
      actor_id: string;
      action: string;
    }[];

    expect(rows).to.deep.equal([{ actor_id: admin.user.id, action: 'ban' }]);
  });
});
