import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Room } from '../server/protocol.js';
import { closeAll, connect, createRoom, http, ok, registerUser, request, startNode } from './support/util.js';

describe('room:join', () => {
  let app: RoomcastApp;
  beforeEach(async () => {
    app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
  });
  afterEach(closeAll);

  it("when a user joins someone else's public room, then the ack has the room as it is now and the membership is recorded", async () => {
    const owner = await registerUser(app);
    const guest = await registerUser(app);
    const room = await createRoom(app, owner.accessToken);
    const ownerSocket = await connect(app, { token: owner.accessToken });
    for (let i = 0; i < 2; i++) await ok(ownerSocket, 'message:send', { roomId: room.id, content: `m${i}`, clientMsgId: randomUUID() });
    const guestSocket = await connect(app, { token: guest.accessToken });

    const joined = await ok<{ room: Room; online: { userId: string }[] }>(guestSocket, 'room:join', { roomId: room.id });
    const again = await ok<{ room: Room }>(guestSocket, 'room:join', { roomId: room.id });

    expect(joined.room).to.include({ id: room.id, joined: true, lastSeq: 2 });
    expect(joined.online.map((o) => o.userId)).to.include(guest.user.id);
    expect(again.room).to.include({ id: room.id, joined: true, lastSeq: 2 });
    const listed = await http<{ rooms: Room[] }>(app, 'GET', '/api/rooms', { token: guest.accessToken });
    expect(listed.body.rooms.find((r) => r.id === room.id)).to.include({ joined: true });
  });

  it('when the room does not exist, then the ack is not_found', async () => {
    const user = await registerUser(app);
    const socket = await connect(app, { token: user.accessToken });

    const ack = await request(socket, 'room:join', { roomId: randomUUID() });

    expect(ack.ok).to.equal(false);
    expect((ack as { error: { code: string } }).error.code).to.equal('not_found');
  });
});
