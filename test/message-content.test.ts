import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message } from '../server/protocol.js';
import { http, ok, registerUser, request, useNode, usersWithRoom } from './support/util.js';

// Sends are stored in shared group-commit batches: a message the database
// cannot store must be refused on its own, never fail its batch-mates.
describe('message:send content the database cannot store', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  it('when content holds a NUL character, then that send answers validation_failed and a send in the same tick is stored', async () => {
    const { room, sockets: [socket] } = await usersWithRoom([node.app]);

    const [bad, good] = await Promise.all([
      request(socket, 'message:send', { roomId: room.id, content: 'a\u0000b', clientMsgId: randomUUID() }),
      request<{ message: Message }>(socket, 'message:send', { roomId: room.id, content: 'fine', clientMsgId: randomUUID() }),
    ]);

    expect(bad).to.deep.include({ ok: false });
    expect((bad as { error: { code: string } }).error.code).to.equal('validation_failed');
    expect(good.ok).to.equal(true);
    const history = await ok<{ messages: Message[] }>(socket, 'room:history', { roomId: room.id });
    expect(history.messages.map((m) => m.content)).to.deep.equal(['fine']);
  });

  it('when a room name holds a NUL character, then creating it answers 400 validation_failed', async () => {
    const alice = await registerUser(node.app);

    const res = await http(node.app, 'POST', '/api/rooms', { token: alice.accessToken, body: { name: 'a\u0000b' } });

    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('validation_failed');
  });
});
