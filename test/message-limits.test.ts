import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Ack, Message } from '../server/protocol.js';
import { closeAll, connect, http, ok, request, startNode, useNode, usersWithRoom, type ChatClient } from './support/util.js';

const send = (socket: ChatClient, roomId: string, content = 'hi') =>
  request<{ message: Message }>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() });
const codeOf = (ack: Ack) => (ack.ok ? 'ok' : ack.error.code);

describe('message rate limit', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '5', MESSAGE_RATE_WINDOW: '10' });

  it('when a user sends more than MESSAGE_RATE_LIMIT in the window, then the 6th answers rate_limited and the socket stays connected', async () => {
    const { room, users: [alice], sockets: [socket] } = await usersWithRoom([node.app]);

    const acks: Ack[] = [];
    for (let i = 0; i < 6; i++) acks.push(await send(socket, room.id, `m${i}`));

    expect(acks.map(codeOf)).to.deep.equal(['ok', 'ok', 'ok', 'ok', 'ok', 'rate_limited']);
    expect(socket.connected).to.equal(true);
    await ok(socket, 'room:history', { roomId: room.id });
    const history = await http(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: alice.accessToken });
    expect(history.body.messages).to.have.length(5);
  });

  it('when the user sends from two sockets, then the budget is shared; another user keeps their own', async () => {
    const { room, users: [alice], sockets: [phone, bobSocket] } = await usersWithRoom([node.app, node.app]);
    const laptop = await connect(node.app, { token: alice.accessToken });

    const acks = await Promise.all([send(phone, room.id), send(phone, room.id), send(phone, room.id), send(laptop, room.id), send(laptop, room.id)]);
    const sixthFromPhone = await send(phone, room.id);
    const sixthFromLaptop = await send(laptop, room.id);
    const fromBob = await send(bobSocket, room.id);

    expect(acks.map(codeOf)).to.deep.equal(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(codeOf(sixthFromPhone)).to.equal('rate_limited');
    expect(codeOf(sixthFromLaptop)).to.equal('rate_limited');
    expect(codeOf(fromBob)).to.equal('ok');
    expect(phone.connected && laptop.connected).to.equal(true);
  });

  it('when a payload is invalid, then it does not spend the budget', async () => {
    const { room, sockets: [socket] } = await usersWithRoom([node.app]);
    for (let i = 0; i < 10; i++) expect(codeOf(await request(socket, 'message:send', { roomId: room.id, content: '' }))).to.equal('validation_failed');
    for (let i = 0; i < 5; i++) expect(codeOf(await send(socket, room.id))).to.equal('ok');
  });

  it('when MESSAGE_RATE_LIMIT is 0, then there is no limit', async () => {
    const unlimited = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const { room, sockets: [socket] } = await usersWithRoom([unlimited]);
    const acks = await Promise.all(Array.from({ length: 30 }, () => send(socket, room.id)));
    expect(acks.every((a) => a.ok)).to.equal(true);
  });
});

describe('message length limit', () => {
  afterEach(closeAll);

  it('when content is longer than MAX_MESSAGE_LENGTH, then it answers validation_failed; at the limit it is stored', async () => {
    const app = await startNode({ MAX_MESSAGE_LENGTH: '10', MESSAGE_RATE_LIMIT: '0' });
    const { room, sockets: [socket] } = await usersWithRoom([app]);

    const atLimit = await send(socket, room.id, 'x'.repeat(10));
    const accented = await send(socket, room.id, 'é'.repeat(10));
    const over = await send(socket, room.id, 'x'.repeat(11));
    const message = (await ok<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'short', clientMsgId: randomUUID() })).message;
    const editOver = await request(socket, 'message:edit', { messageId: message.id, content: 'y'.repeat(11) });
    const editAt = await request(socket, 'message:edit', { messageId: message.id, content: 'y'.repeat(10) });

    expect(codeOf(atLimit)).to.equal('ok');
    expect(codeOf(accented)).to.equal('ok');
    expect(codeOf(over)).to.equal('validation_failed');
    expect(codeOf(editOver)).to.equal('validation_failed');
    expect(codeOf(editAt)).to.equal('ok');
  });

  it('when the default applies, then 4000 characters pass and 4001 do not', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
    const { room, sockets: [socket] } = await usersWithRoom([app]);
    expect(codeOf(await send(socket, room.id, 'x'.repeat(4000)))).to.equal('ok');
    expect(codeOf(await send(socket, room.id, 'x'.repeat(4001)))).to.equal('validation_failed');
  });
});
