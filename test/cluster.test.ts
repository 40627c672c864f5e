import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, JoinResult, Message, MessageDeletedEvent, MessageResult, PresenceEvent, SessionRevokedEvent, TypingEvent } from '../server/protocol.js';
import { useRedisCluster } from './support/cluster.js';
import { collect, connect, createRoom, http, membersInRoom, nextEvent, ok, registerUser, request, stopNode, usersWithRoom, waitFor, type ChatClient } from './support/util.js';

const seqs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const send = (socket: ChatClient, roomId: string, content: string) =>
  request<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() });

describe('a cluster of nodes sharing PostgreSQL and Redis', () => {
  const { node } = useRedisCluster('cluster tests');

  it('when a message is sent on node A, then a room member on node B receives it with the same seq', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const { room, sockets: [aliceSocket, bobSocket] } = await membersInRoom([a, b]);
    const received = nextEvent<Message>(bobSocket, 'message:new');

    const ack = await ok<MessageResult>(aliceSocket, 'message:send', { roomId: room.id, content: 'across', clientMsgId: randomUUID() });

    expect(ack.message.seq).to.equal(1);
    expect(await received).to.deep.equal(ack.message);
  });

  it('when senders on two nodes write into one room at once, then history is exactly 1..N and every receiver sees every message once, in order', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const owner = await registerUser(a);
    const room = await createRoom(a, owner.accessToken);
    const senders = await Promise.all([a, a, b, b].map((app) => registerUser(app)));
    const watchers = await Promise.all([a, b].map((app) => registerUser(app)));
    const senderSockets = await Promise.all(senders.map((s, i) => connect(i < 2 ? a : b, { token: s.accessToken })));
    const watcherSockets = await Promise.all(watchers.map((w, i) => connect(i === 0 ? a : b, { token: w.accessToken })));
    for (const s of [...senderSockets, ...watcherSockets]) await ok(s, 'room:join', { roomId: room.id });
    const seenByWatchers = watcherSockets.map((s) => collect<Message>(s, 'message:new'));
    const seenBySenders = senderSockets.map((s) => collect<Message>(s, 'message:new'));
    const perSender = 30;
    const total = senders.length * perSender;

    const acks = await Promise.all(senderSockets.flatMap((socket, i) => Array.from({ length: perSender }, (_, n) => send(socket, room.id, `s${i}-${n}`))));

    expect(acks.every((ack) => ack.ok)).to.equal(true);
    const acked = acks.map((ack) => (ack.ok ? ack.message : null)!);
    expect(acked.map((m) => m.seq).sort((x, y) => x - y)).to.deep.equal(seqs(total));
    await waitFor(() => seenByWatchers.every((seen) => seen.length >= total), 15_000, 'every watcher to see every message');
    for (const seen of seenByWatchers) expect(seen.map((m) => m.seq)).to.deep.equal(seqs(total));
    // Each sender sees everyone else's messages, in order, and not its own.
    await waitFor(() => seenBySenders.every((seen) => seen.length >= total - perSender), 15_000, 'every sender to see the others');
    seenBySenders.forEach((seen, i) => {
      const expected = acked.filter((m) => m.userId !== senders[i]!.user.id).map((m) => m.seq).sort((x, y) => x - y);
      expect(seen.map((m) => m.seq)).to.deep.equal(expected);
    });
    const history = await http<{ messages: Message[] }>(b, 'GET', `/api/rooms/${room.id}/messages?afterSeq=0&limit=200`, { token: watchers[1]!.accessToken });
    expect(history.body.messages.map((m) => m.seq)).to.deep.equal(seqs(total));
  });

  it('when a user has devices on two nodes, then they come online once and go offline only when the last device anywhere leaves', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const carol = await registerUser(a);
    const [watcherA, watcherB, markerA, markerB] = await Promise.all([registerUser(a), registerUser(b), registerUser(a), registerUser(b)]);
    const room = await createRoom(a, carol.accessToken);
    const onA = await connect(a, { token: watcherA.accessToken });
    const onB = await connect(b, { token: watcherB.accessToken });
    await ok(onA, 'room:join', { roomId: room.id });
    await ok(onB, 'room:join', { roomId: room.id });
    const seenOnA = collect<PresenceEvent>(onA, 'presence');
    const seenOnB = collect<PresenceEvent>(onB, 'presence');
    const carolEvents = (seen: PresenceEvent[]) => seen.filter((p) => p.userId === carol.user.id).map((p) => p.online);
    // A marker user's presence, emitted on the same node after the step under
    // test, shows that step's own presence event (if any) has arrived too.
    const markerSeen = async (marker: typeof markerA, app: RoomcastApp) => {
      const socket = await connect(app, { token: marker.accessToken });
      await ok(socket, 'room:join', { roomId: room.id });
      await waitFor(() => [seenOnA, seenOnB].every((seen) => seen.some((p) => p.userId === marker.user.id && p.online)), 5_000, 'marker presence');
      return socket;
    };

    const phoneOnA = await connect(a, { token: carol.accessToken });
    await ok(phoneOnA, 'room:join', { roomId: room.id });
    await waitFor(() => carolEvents(seenOnA).length === 1 && carolEvents(seenOnB).length === 1, 5_000, 'carol online');
    const laptopOnB = await connect(b, { token: carol.accessToken });
    const joined = await ok<{ online: { userId: string }[] }>(laptopOnB, 'room:join', { roomId: room.id });
    const markerSocketB = await markerSeen(markerB, b);
    expect(joined.online.filter((u) => u.userId === carol.user.id)).to.have.length(1);
    expect(carolEvents(seenOnA)).to.deep.equal([true]);
    expect(carolEvents(seenOnB)).to.deep.equal([true]);

    phoneOnA.disconnect();
    const markerSocketA = await markerSeen(markerA, a);
    expect(carolEvents(seenOnA)).to.deep.equal([true]);
    expect(carolEvents(seenOnB)).to.deep.equal([true]);
    const stillOnline = await ok<{ online: { userId: string }[] }>(markerSocketA, 'room:join', { roomId: room.id });
    expect(stillOnline.online.map((u) => u.userId)).to.include(carol.user.id);

    await ok(laptopOnB, 'room:leave', { roomId: room.id });
    await waitFor(() => carolEvents(seenOnA).length === 2 && carolEvents(seenOnB).length === 2, 5_000, 'carol offline');
    expect(carolEvents(seenOnA)).to.deep.equal([true, false]);
    expect(carolEvents(seenOnB)).to.deep.equal([true, false]);
    const after = await ok<{ online: { userId: string }[] }>(markerSocketB, 'room:join', { roomId: room.id });
    expect(after.online.map((u) => u.userId)).to.not.include(carol.user.id);
  });

  it('when a user logs out on node A, then their socket on node B gets session:revoked and is disconnected within 1 s', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const dave = await registerUser(a);
    const socketOnB = await connect(b, { token: dave.accessToken });
    const revoked = nextEvent<SessionRevokedEvent>(socketOnB, 'session:revoked', 1_000);
    const disconnected = nextEvent<string>(socketOnB, 'disconnect', 1_000);

    const logout = await http(a, 'POST', '/api/auth/logout', { body: { refreshToken: dave.refreshToken } });

    expect(logout.status).to.equal(204);
    expect(await revoked).to.deep.equal({ reason: 'logout' });
    expect(await disconnected).to.equal('io server disconnect');
  });

  it('when a message is edited and deleted on node A, then a room member on node B sees both', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const { room, users: [alice], sockets: [aliceSocket, bobSocket] } = await membersInRoom([a, b]);
    const { message } = await ok<MessageResult>(aliceSocket, 'message:send', { roomId: room.id, content: 'first', clientMsgId: randomUUID() });
    const updated = nextEvent<Message>(bobSocket, 'message:updated');
    const deleted = nextEvent<MessageDeletedEvent>(bobSocket, 'message:deleted');

    const edit = await ok<MessageResult>(aliceSocket, 'message:edit', { messageId: message.id, content: 'second' });
    expect(await updated).to.deep.equal(edit.message);
    await ok(aliceSocket, 'message:delete', { messageId: message.id });

    expect(await deleted).to.deep.equal({ id: message.id, roomId: room.id, seq: message.seq, change: edit.message.change + 1 });
  });

  it('when someone types on node A, then a room member on node B sees it', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const { room, users: [alice], sockets: [aliceSocket, bobSocket] } = await membersInRoom([a, b]);
    const typing = nextEvent<TypingEvent>(bobSocket, 'typing');

    await ok(aliceSocket, 'typing', { roomId: room.id, typing: true });

    expect(await typing).to.deep.equal({ roomId: room.id, userId: alice.user.id, username: alice.user.username, typing: true });
  });

  it('when a node shuts down, then users whose last socket was there go offline for members on the other nodes', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const [watcher, frank] = await Promise.all([registerUser(a), registerUser(b)]);
    const room = await createRoom(a, watcher.accessToken);
    const watcherSocket = await connect(a, { token: watcher.accessToken });
    await ok(watcherSocket, 'room:join', { roomId: room.id });
    const frankSocket = await connect(b, { token: frank.accessToken });
    const online = nextEvent<PresenceEvent>(watcherSocket, 'presence');
    await ok(frankSocket, 'room:join', { roomId: room.id });
    expect(await online).to.include({ userId: frank.user.id, online: true });
    const offline = nextEvent<PresenceEvent>(watcherSocket, 'presence');

    await stopNode(b);

    expect(await offline).to.deep.equal({ roomId: room.id, userId: frank.user.id, username: frank.user.username, online: false });
    const rejoin = await ok<JoinResult>(watcherSocket, 'room:join', { roomId: room.id });
    expect(rejoin.online.map((u) => u.userId)).to.deep.equal([watcher.user.id]);
  });

  it('when logins fail on two nodes, then the login-failure limit counts both', async () => {
    const limit = { LOGIN_FAILURE_LIMIT: '2', LOGIN_FAILURE_WINDOW: '60' };
    const [a, b] = await Promise.all([node('a', limit), node('b', limit)]);
    const gina = await registerUser(a);
    const attempt = (app: RoomcastApp, password: string) => http(app, 'POST', '/api/auth/login', { body: { login: gina.user.username, password } });

    expect((await attempt(a, 'wrong-password-1')).status).to.equal(401);
    expect((await attempt(b, 'wrong-password-2')).status).to.equal(401);
    const blocked = await attempt(a, gina.password);

    expect(blocked.status).to.equal(429);
    expect(blocked.body.error.code).to.equal('rate_limited');
  });

  it('when a user sends on two nodes, then the message rate limit counts both (5 allowed, the 6th is rate_limited)', async () => {
    const limit = { MESSAGE_RATE_LIMIT: '5', MESSAGE_RATE_WINDOW: '60' };
    const [a, b] = await Promise.all([node('a', limit), node('b', limit)]);
    const { room, users: [erin], sockets: [onA] } = await usersWithRoom([a]);
    const onB = await connect(b, { token: erin.accessToken });

    const acks: Ack<MessageResult>[] = [];
    for (const socket of [onA, onA, onA, onB, onB, onB]) acks.push(await send(socket, room.id, 'hi'));

    expect(acks.map((ack) => ack.ok)).to.deep.equal([true, true, true, true, true, false]);
    const last = acks[5]!;
    expect(!last.ok && last.error.code).to.equal('rate_limited');
  });
});
