import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message, MessageResult } from '../server/protocol.js';
import { closeAll, connect, createRoom, nextEvent, ok, registerUser, startNode } from './support/util.js';

describe('Socket.IO transports on one node', () => {
  afterEach(closeAll);

  it('when one client uses long-polling only and another websocket, then both connect and chat', async () => {
    const app = await startNode();
    const [polly, webby] = await Promise.all([registerUser(app), registerUser(app)]);
    const room = await createRoom(app, polly.accessToken);
    const polling = await connect(app, { token: polly.accessToken, transports: ['polling'] });
    const websocket = await connect(app, { token: webby.accessToken, transports: ['websocket'] });
    await ok(polling, 'room:join', { roomId: room.id });
    await ok(websocket, 'room:join', { roomId: room.id });
    const toPolling = nextEvent<Message>(polling, 'message:new');
    const toWebsocket = nextEvent<Message>(websocket, 'message:new');

    const fromPolling = await ok<MessageResult>(polling, 'message:send', { roomId: room.id, content: 'over polling', clientMsgId: randomUUID() });
    const fromWebsocket = await ok<MessageResult>(websocket, 'message:send', { roomId: room.id, content: 'over websocket', clientMsgId: randomUUID() });

    expect(polling.io.engine.transport.name).to.equal('polling');
    expect(await toWebsocket).to.deep.equal(fromPolling.message);
    expect(await toPolling).to.deep.equal(fromWebsocket.message);
  });
});
