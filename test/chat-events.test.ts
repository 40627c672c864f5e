import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import type { AuthRefreshResult, AuthResponse, HistoryPage, JoinResult, Message, PresenceEvent, RefreshResponse, SessionRevokedEvent, TypingEvent } from '../server/protocol.js';
import { collect, connect, createRoom, http, membersInRoom, nextEvent, ok, registerAdmin, registerUser, request, sleep, useNode, usersWithRoom, waitFor } from './support/util.js';

describe('/chat room:join, room:leave and presence', () => {
  const node = useNode();

  it('when a user joins, then the ack carries the room and who is online, including them', async () => {
    const { room, users: [alice], sockets: [socket] } = await usersWithRoom([node.app]);

    const ack = await ok<JoinResult>(socket, 'room:join', { roomId: room.id });

    expect(ack.room).to.include({ id: room.id, name: room.name, visibility: 'public', joined: true, lastSeq: 0 });
    expect(ack.online).to.deep.equal([{ userId: alice.user.id, username: alice.user.username }]);
  });

  it('when a user’s first socket joins, others get presence online:true; a second device adds no event; the last one leaving sends online:false', async () => {
    const { room, users: [alice], sockets: [aliceSocket] } = await membersInRoom([node.app]);
    const bob = await registerUser(node.app);
    const seen = collect<PresenceEvent>(aliceSocket, 'presence');

    const bobPhone = await connect(node.app, { token: bob.accessToken });
    const bobLaptop = await connect(node.app, { token: bob.accessToken });
    const phoneSeen = collect<PresenceEvent>(bobPhone, 'presence');
    await ok(bobPhone, 'room:join', { roomId: room.id });
    await waitFor(() => seen.length === 1, 5_000, 'presence online');
    expect(seen[0]).to.deep.equal({ roomId: room.id, userId: bob.user.id, username: bob.user.username, online: true });

    const second = await ok<JoinResult>(bobLaptop, 'room:join', { roomId: room.id });
    expect(second.online.map((u) => u.userId).sort()).to.deep.equal([alice.user.id, bob.user.id].sort());
    expect(await ok(bobPhone, 'room:leave', { roomId: room.id })).to.deep.equal({ ok: true });
    await sleep(150);
    expect(seen, 'no event for the second device or the first one leaving').to.have.length(1);

    bobLaptop.disconnect();
    await waitFor(() => seen.length === 2, 5_000, 'presence offline');
    expect(seen[1]).to.deep.equal({ roomId: room.id, userId: bob.user.id, username: bob.user.username, online: false });
    expect(phoneSeen, 'a socket that left gets no more presence').to.have.length(0);
  });

  it('when a socket leaves a room, then it no longer receives its messages', async () => {
    const { room, sockets: [aliceSocket, bobSocket] } = await membersInRoom([node.app, node.app]);
    const toBob = collect<Message>(bobSocket, 'message:new');

    await ok(bobSocket, 'room:leave', { roomId: room.id });
    await ok(aliceSocket, 'message:send', { roomId: room.id, content: 'after leave', clientMsgId: randomUUID() });
    await sleep(150);

    expect(toBob).to.have.length(0);
  });

  it('when a room was never joined, then room:leave still answers ok', async () => {
    const { room, sockets: [socket] } = await usersWithRoom([node.app]);
    expect(await request(socket, 'room:leave', { roomId: room.id })).to.deep.equal({ ok: true });
  });
});

describe('/chat room:history', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  it('when history is asked with afterSeq, beforeSeq or neither, then it answers the contract’s windows oldest first', async () => {
    const { room, users: [alice], sockets: [socket] } = await usersWithRoom([node.app]);
    for (let i = 1; i <= 5; i++) await ok(socket, 'message:send', { roomId: room.id, content: `m${i}`, clientMsgId: randomUUID() });
    const seqs = (page: HistoryPage) => page.messages.map((m) => m.seq);

    const latest = await ok<HistoryPage>(socket, 'room:history', { roomId: room.id, limit: 2 });
    const after = await ok<HistoryPage>(socket, 'room:history', { roomId: room.id, afterSeq: 3 });
    const before = await ok<HistoryPage>(socket, 'room:history', { roomId: room.id, beforeSeq: 4, limit: 2 });

    expect([seqs(latest), latest.hasMore]).to.deep.equal([[4, 5], true]);
    expect([seqs(after), after.hasMore]).to.deep.equal([[4, 5], false]);
    expect([seqs(before), before.hasMore]).to.deep.equal([[2, 3], true]);
    expect(latest.messages[1]).to.include({ content: 'm5', userId: alice.user.id });
  });
});

describe('/chat message:edit and message:delete', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  it('when the author edits and deletes, then the room gets message:updated and message:deleted, and history keeps the seq', async () => {
    const { room, sockets: [aliceSocket, bobSocket] } = await membersInRoom([node.app, node.app]);
    const { message } = await ok<{ message: Message }>(aliceSocket, 'message:send', { roomId: room.id, content: 'draft', clientMsgId: randomUUID() });

    const updated = nextEvent<Message>(bobSocket, 'message:updated');
    const edit = await ok<{ message: Message }>(aliceSocket, 'message:edit', { messageId: message.id, content: 'final' });
    expect(edit.message).to.include({ id: message.id, seq: 1, content: 'final', deleted: false });
    expect(edit.message.editedAt).to.be.a('string');
    expect(await updated).to.deep.equal(edit.message);

    const deleted = nextEvent(bobSocket, 'message:deleted');
    expect(await request(aliceSocket, 'message:delete', { messageId: message.id })).to.deep.equal({ ok: true });
    expect(await deleted).to.deep.equal({ id: message.id, roomId: room.id, seq: 1, change: 3 });

    const history = await ok<HistoryPage>(bobSocket, 'room:history', { roomId: room.id });
    expect(history.messages).to.have.length(1);
    expect(history.messages[0]).to.include({ id: message.id, seq: 1, deleted: true, content: '' });
    const again = await request(aliceSocket, 'message:edit', { messageId: message.id, content: 'revived' });
    expect(!again.ok && again.error.code).to.equal('not_found');
  });

  it('when someone else edits or deletes, then it answers forbidden; an admin may; an unknown id is not_found', async () => {
    const admin = await registerAdmin(node.app);
    const { room, sockets: [aliceSocket, bobSocket] } = await usersWithRoom([node.app, node.app]);
    const adminSocket = await connect(node.app, { token: admin.accessToken });
    const { message } = await ok<{ message: Message }>(aliceSocket, 'message:send', { roomId: room.id, content: 'mine', clientMsgId: randomUUID() });

    const bobEdit = await request(bobSocket, 'message:edit', { messageId: message.id, content: 'hijack' });
    const bobDelete = await request(bobSocket, 'message:delete', { messageId: message.id });
    const unknown = await request(bobSocket, 'message:delete', { messageId: '999999999999' });
    const adminEdit = await request<{ message: Message }>(adminSocket, 'message:edit', { messageId: message.id, content: 'moderated' });

    expect(!bobEdit.ok && bobEdit.error.code).to.equal('forbidden');
    expect(!bobDelete.ok && bobDelete.error.code).to.equal('forbidden');
    expect(!unknown.ok && unknown.error.code).to.equal('not_found');
    expect(adminEdit.ok && adminEdit.message.content).to.equal('moderated');
    expect(await request(adminSocket, 'message:delete', { messageId: message.id })).to.deep.equal({ ok: true });
  });
});

describe('/chat typing', () => {
  const node = useNode();

  it('when a user types in a joined room, then the others in it get {roomId, userId, username, typing} and the sender does not', async () => {
    const { room, users: [alice, bob], sockets: [aliceSocket, bobSocket] } = await membersInRoom([node.app, node.app]);
    const toSender = collect<TypingEvent>(aliceSocket, 'typing');
    const toBob = nextEvent<TypingEvent>(bobSocket, 'typing');

    expect(await request(aliceSocket, 'typing', { roomId: room.id, typing: true })).to.deep.equal({ ok: true });

    expect(await toBob).to.deep.equal({ roomId: room.id, userId: alice.user.id, username: alice.user.username, typing: true });
    await sleep(100);
    expect(toSender).to.have.length(0);
  });

  it('when the socket has not joined the room, then typing answers not_found and nobody is told', async () => {
    const { room, sockets: [aliceSocket, bobSocket] } = await usersWithRoom([node.app, node.app]);
    await ok(bobSocket, 'room:join', { roomId: room.id });
    const toBob = collect<TypingEvent>(bobSocket, 'typing');

    const ack = await request(aliceSocket, 'typing', { roomId: room.id, typing: true });

    expect(ack.ok).to.equal(false);
    expect(!ack.ok && ack.error.code).to.equal('not_found');
    await sleep(100);
    expect(toBob).to.have.length(0);
  });
});

describe('/chat auth:refresh and session expiry', () => {
  const node = useNode({ ACCESS_TOKEN_TTL: '2' });

  const expiryOf = (token: string) => ((jwt.decode(token) as jwt.JwtPayload).exp ?? 0) * 1000;

  it('when the token expires without auth:refresh, then the socket gets session:expired and is disconnected', async () => {
    const alice = await registerUser(node.app);
    const socket = await connect(node.app, { token: alice.accessToken });
    const expired = nextEvent(socket, 'session:expired', 4_000);
    const disconnected = nextEvent<string>(socket, 'disconnect', 4_500);

    expect(await expired).to.deep.equal({});
    expect(await disconnected).to.equal('io server disconnect');
    expect(Date.now()).to.be.at.least(expiryOf(alice.accessToken));
  });

  it('when a fresh token of the same user is sent with auth:refresh, then the socket stays past the original expiry', async () => {
    const alice = await registerUser(node.app);
    const socket = await connect(node.app, { token: alice.accessToken });
    const expiredEvents = collect(socket, 'session:expired');
    const originalExpiry = expiryOf(alice.accessToken);
    // A token issued in a later second expires later (JWT times are whole seconds).
    await sleep(Math.max(0, originalExpiry - 1_000 - Date.now() + 50));
    const fresh = await http<RefreshResponse>(node.app, 'POST', '/api/auth/refresh', { body: { refreshToken: alice.refreshToken } });
    expect(expiryOf(fresh.body.accessToken)).to.be.greaterThan(originalExpiry);

    const ack = await ok<AuthRefreshResult>(socket, 'auth:refresh', { token: fresh.body.accessToken });
    expect(ack.expiresIn).to.be.within(1, 2);

    await sleep(originalExpiry + 400 - Date.now());
    expect(socket.connected).to.equal(true);
    expect(expiredEvents).to.have.length(0);
    await ok(socket, 'room:history', { roomId: (await createRoom(node.app, fresh.body.accessToken)).id });
  });

  it('when the token sent with auth:refresh belongs to another user, then it answers forbidden and keeps the old expiry', async () => {
    const alice = await registerUser(node.app);
    const mallory = await registerUser(node.app);
    const socket = await connect(node.app, { token: alice.accessToken });

    const ack = await request(socket, 'auth:refresh', { token: mallory.accessToken });

    expect(ack.ok).to.equal(false);
    expect(!ack.ok && ack.error.code).to.equal('forbidden');
    expect(socket.connected).to.equal(true);
  });

  it('when auth:refresh carries a token of another login of the same user, then the socket follows that login', async () => {
    const alice = await registerUser(node.app);
    const secondLogin = await http<AuthResponse>(node.app, 'POST', '/api/auth/login', {
      body: { login: alice.user.username, password: alice.password, client: 'native' },
    });
    const socket = await connect(node.app, { token: alice.accessToken });
    await ok(socket, 'auth:refresh', { token: secondLogin.body.accessToken });
    const revoked = collect<SessionRevokedEvent>(socket, 'session:revoked');

    // Logging out the first login no longer concerns this socket; logging out the second does.
    await http(node.app, 'POST', '/api/auth/logout', { body: { refreshToken: alice.refreshToken } });
    await sleep(150);
    expect(socket.connected).to.equal(true);
    const disconnected = nextEvent<string>(socket, 'disconnect');
    await http(node.app, 'POST', '/api/auth/logout', { body: { refreshToken: secondLogin.body.refreshToken } });
    expect(await disconnected).to.equal('io server disconnect');
    expect(revoked).to.deep.equal([{ reason: 'logout' }]);
  });

  it('when the token sent with auth:refresh is not valid, then it answers unauthorized', async () => {
    const alice = await registerUser(node.app);
    const socket = await connect(node.app, { token: alice.accessToken });
    const ack = await request(socket, 'auth:refresh', { token: 'not.a.token' });
    expect(!ack.ok && ack.error.code).to.equal('unauthorized');
  });
});
