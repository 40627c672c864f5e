// A UUID that differs only in letter case names the same room or user
// everywhere (some platforms print UUIDs in upper case): channels, presence,
// acks and stored rows all use the canonical lower-case form.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { JoinResult, Message, MessageResult, PresenceEvent, Room, TypingEvent } from '../server/protocol.js';
import { collect, connect, createRoom, http, membersInRoom, nextEvent, ok, registerAdmin, registerUser, request, useNode, usersWithRoom, waitFor, type AdminClient } from './support/util.js';

const upper = (id: string) => id.toUpperCase();

async function gapFills(app: RoomcastApp): Promise<number> {
  return (await app.metrics.gapFills.get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe('canonical ids: upper-case UUIDs name the same room and user', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  it('when a message is sent with the upper-case room id, then the ack and live delivery use the canonical id, with no gap fill', async () => {
    const { room, sockets: [alice, bob] } = await membersInRoom([node.app, node.app]);
    const received = collect<Message>(bob, 'message:new');

    const first = await ok<MessageResult>(alice, 'message:send', { roomId: upper(room.id), content: 'shouted', clientMsgId: upper(randomUUID()) });
    const second = await ok<MessageResult>(alice, 'message:send', { roomId: room.id, content: 'quiet', clientMsgId: randomUUID() });

    expect(first.message.roomId).to.equal(room.id);
    expect(first.message.clientMsgId).to.equal(first.message.clientMsgId.toLowerCase());
    expect(second.message.seq).to.equal(first.message.seq + 1);
    await waitFor(() => received.length >= 2, 5_000, 'both messages at the lower-case joiner');
    expect(received.map((m) => [m.seq, m.roomId])).to.deep.equal([
      [1, room.id],
      [2, room.id],
    ]);
    // Live delivery, not the database read that fills a delivery gap.
    expect(await gapFills(node.app)).to.equal(0);
  });

  it('when the same clientMsgId is sent again in another letter case, then the original message answers (no duplicate)', async () => {
    const { room, sockets: [alice] } = await membersInRoom([node.app]);
    const clientMsgId = randomUUID();

    const original = await ok<MessageResult>(alice, 'message:send', { roomId: room.id, content: 'once', clientMsgId });
    const repeat = await ok<MessageResult>(alice, 'message:send', { roomId: upper(room.id), content: 'once', clientMsgId: upper(clientMsgId) });

    expect(repeat.message).to.deep.equal(original.message);
  });

  it('when a socket joins with the upper-case room id, then it is in presence and receives the room’s messages and typing', async () => {
    const { room, users: [owner, guest], sockets: [ownerSocket, guestSocket] } = await usersWithRoom([node.app, node.app]);
    await ok(ownerSocket, 'room:join', { roomId: room.id });
    const announced = nextEvent<PresenceEvent>(ownerSocket, 'presence');

    const joined = await ok<JoinResult>(guestSocket, 'room:join', { roomId: upper(room.id) });

    expect(joined.room.id).to.equal(room.id);
    expect(await announced).to.include({ roomId: room.id, userId: guest.user.id, online: true });
    const seen = await ok<JoinResult>(ownerSocket, 'room:join', { roomId: room.id });
    expect(seen.online.map((u) => u.userId)).to.have.members([owner.user.id, guest.user.id]);

    const message = nextEvent<Message>(guestSocket, 'message:new');
    const sent = await ok<MessageResult>(ownerSocket, 'message:send', { roomId: room.id, content: 'hello', clientMsgId: randomUUID() });
    expect(await message).to.deep.equal(sent.message);
    const typing = nextEvent<TypingEvent>(ownerSocket, 'typing');
    await ok(guestSocket, 'typing', { roomId: upper(room.id), typing: true });
    expect(await typing).to.include({ roomId: room.id, userId: guest.user.id, typing: true });

    const left = nextEvent<PresenceEvent>(ownerSocket, 'presence');
    await ok(guestSocket, 'room:leave', { roomId: room.id });
    expect(await left).to.include({ roomId: room.id, userId: guest.user.id, online: false });
  });

  it('when REST routes and history get upper-case ids, then they answer for the canonical room', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    await ok(socket, 'message:send', { roomId: room.id, content: 'kept', clientMsgId: randomUUID() });

    const got = await http<{ room: Room }>(node.app, 'GET', `/api/rooms/${upper(room.id)}`, { token: alice.accessToken });
    const history = await http<{ messages: Message[] }>(node.app, 'GET', `/api/rooms/${upper(room.id)}/messages`, { token: alice.accessToken });
    const viaSocket = await ok<{ messages: Message[] }>(socket, 'room:history', { roomId: upper(room.id) });

    expect(got.body.room.id).to.equal(room.id);
    expect(history.body.messages.map((m) => m.roomId)).to.deep.equal([room.id]);
    expect(viaSocket.messages.map((m) => m.roomId)).to.deep.equal([room.id]);
  });

  it('when an admin kicks with upper-case ids, then the lower-case joiner is out of the room', async () => {
    const admin = await registerAdmin(node.app);
    const { room, users: [, bob], sockets: [alice, bobSocket] } = await membersInRoom([node.app, node.app]);
    const adminSocket = await connect<AdminClient>(node.app, { token: admin.accessToken, namespace: '/admin' });
    const out = nextEvent<PresenceEvent>(alice, 'presence');

    const ack = await request(adminSocket, 'admin:kick', { userId: upper(bob.user.id), roomId: upper(room.id) });

    expect(ack.ok).to.equal(true);
    expect(await out).to.include({ roomId: room.id, userId: bob.user.id, online: false });
    const typing = await request(bobSocket, 'typing', { roomId: room.id, typing: true });
    expect(typing.ok).to.equal(false);
  });
  it('when an admin adds and removes a private-room member through REST with upper-case ids, then the member’s socket is taken out of the room', async () => {
    const admin = await registerAdmin(node.app);
    const member = await registerUser(node.app);
    const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
    const added = await http(node.app, 'POST', `/api/rooms/${upper(room.id)}/members`, { token: admin.accessToken, body: { userId: upper(member.user.id) } });
    expect(added.status).to.equal(204);
    const socket = await connect(node.app, { token: member.accessToken });
    await ok(socket, 'room:join', { roomId: room.id });
    const out = nextEvent<PresenceEvent>(socket, 'presence');

    const removed = await http(node.app, 'DELETE', `/api/rooms/${upper(room.id)}/members/${upper(member.user.id)}`, { token: admin.accessToken });

    expect(removed.status).to.equal(204);
    expect(await out).to.include({ roomId: room.id, userId: member.user.id, online: false });
    expect((await request(socket, 'typing', { roomId: room.id, typing: true })).ok).to.equal(false);
  });
});
