import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Room } from '../server/protocol.js';
import { connect, http, ok, registerUser, request, useNode, usersWithRoom } from './support/util.js';

describe('room:join', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  it("when a user joins someone else's public room, then the ack has the room as it is now and the membership is recorded", async () => {
    const { room, users: [, guest], sockets: [ownerSocket, guestSocket] } = await usersWithRoom([node.app, node.app]);
    for (let i = 0; i < 2; i++) await ok(ownerSocket, 'message:send', { roomId: room.id, content: `m${i}`, clientMsgId: randomUUID() });

    const joined = await ok<{ room: Room; online: { userId: string }[] }>(guestSocket, 'room:join', { roomId: room.id });
    const again = await ok<{ room: Room }>(guestSocket, 'room:join', { roomId: room.id });

    expect(joined.room).to.include({ id: room.id, joined: true, lastSeq: 2 });
    expect(joined.online.map((o) => o.userId)).to.include(guest.user.id);
    expect(again.room).to.include({ id: room.id, joined: true, lastSeq: 2 });
    const listed = await http<{ rooms: Room[] }>(node.app, 'GET', '/api/rooms', { token: guest.accessToken });
    expect(listed.body.rooms.find((r) => r.id === room.id)).to.include({ joined: true });
  });

  it('when the room does not exist, then the ack is not_found', async () => {
    const user = await registerUser(node.app);
    const socket = await connect(node.app, { token: user.accessToken });

    const ack = await request(socket, 'room:join', { roomId: randomUUID() });

    expect(ack.ok).to.equal(false);
    expect((ack as { error: { code: string } }).error.code).to.equal('not_found');
  });
});
