import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message } from '../server/protocol.js';
import { collect, connect, createRoom, http, membersInRoom, ok, registerUser, request, useNode, usersWithRoom, waitFor } from './support/util.js';

describe('message:send', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  it('stores the message, acks it with seq 1, and delivers it to the other sockets in the room but not the sender', async () => {
    const { room, users: [alice, bob], sockets: [aliceSocket, bobSocket] } = await membersInRoom([node.app, node.app]);
    const aliceOtherDevice = await connect(node.app, { token: alice.accessToken });
    await ok(aliceOtherDevice, 'room:join', { roomId: room.id });
    const toSender = collect<Message>(aliceSocket, 'message:new');
    const toOtherDevice = collect<Message>(aliceOtherDevice, 'message:new');
    const toBob = collect<Message>(bobSocket, 'message:new');

    const ack = await ok<{ message: Message }>(aliceSocket, 'message:send', { roomId: room.id, content: 'hello', clientMsgId: randomUUID() });

    expect(ack.message).to.include({ roomId: room.id, seq: 1, content: 'hello', userId: alice.user.id, username: alice.user.username, deleted: false });
    expect(ack.message.id).to.match(/^\d+$/);
    await waitFor(() => toBob.length === 1 && toOtherDevice.length === 1);
    expect(toBob[0]).to.deep.equal(ack.message);
    expect(toSender).to.have.length(0);
    const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: bob.accessToken });
    expect(history.body.messages).to.deep.equal([ack.message]);
  });

  it('when the same clientMsgId is sent again, then the original message is answered and nothing is duplicated', async () => {
    const { room, users: [alice], sockets: [socket] } = await usersWithRoom([node.app]);
    const clientMsgId = randomUUID();
    const first = await ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'once', clientMsgId });
    const again = await ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'once', clientMsgId });
    const [a, b] = await Promise.all([
      ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'twice', clientMsgId: randomUUID() }),
      ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'once', clientMsgId }),
    ]);
    expect(again.message).to.deep.equal(first.message);
    expect(b.message).to.deep.equal(first.message);
    expect(a.message.seq).to.equal(2);
    const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: alice.accessToken });
    expect(history.body.messages.map((m: Message) => m.seq)).to.deep.equal([1, 2]);
  });

  it('under concurrent senders on several sockets, seqs are exactly 1..N and every receiver sees each message once, in order', async () => {
    const senders = await Promise.all([1, 2, 3, 4].map(() => registerUser(node.app)));
    const watcher = await registerUser(node.app);
    const room = await createRoom(node.app, senders[0]!.accessToken);
    const sockets = await Promise.all(senders.map((s) => connect(node.app, { token: s.accessToken })));
    const watcherSocket = await connect(node.app, { token: watcher.accessToken });
    for (const s of [...sockets, watcherSocket]) await ok(s, 'room:join', { roomId: room.id });
    const seen = collect<Message>(watcherSocket, 'message:new');
    const perSender = 50;

    const acks = await Promise.all(
      sockets.flatMap((socket, i) =>
        Array.from({ length: perSender }, (_, n) => request<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: `s${i}-${n}`, clientMsgId: randomUUID() })),
      ),
    );

    const total = senders.length * perSender;
    expect(acks.every((a) => a.ok)).to.equal(true);
    const ackedSeqs = acks.map((a) => (a.ok ? a.message.seq : -1)).sort((x, y) => x - y);
    expect(ackedSeqs).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
    await waitFor(() => seen.length >= total, 10_000, 'all deliveries');
    expect(seen.map((m) => m.seq)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
    const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages?afterSeq=0&limit=200`, { token: watcher.accessToken });
    expect(history.body.messages.map((m: Message) => m.seq)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
  });
});
