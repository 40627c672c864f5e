import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, Message } from '../server/protocol.js';
import { closeAll, connect, createRoom, http, nextEvent, ok, registerUser, sleep, startNode, type ChatClient } from './support/util.js';

/** Stands for "emit with the ack as the only argument" (no payload at all). */
const NO_PAYLOAD = Symbol('no payload');

function emitRaw(socket: ChatClient, event: string, payload: unknown): Promise<Ack> {
  const timed = socket.timeout(5_000) as unknown as { emitWithAck(event: string, ...args: unknown[]): Promise<Ack> };
  return payload === NO_PAYLOAD ? timed.emitWithAck(event) : timed.emitWithAck(event, payload);
}

const describePayload = (payload: unknown) => (payload === NO_PAYLOAD ? 'no payload' : JSON.stringify(payload)?.slice(0, 60) ?? String(payload));

describe('/chat malformed payloads', () => {
  let app: RoomcastApp;
  let socket: ChatClient;
  let roomId: string;
  let messageId: string;

  beforeEach(async () => {
    app = await startNode();
    const alice = await registerUser(app);
    roomId = (await createRoom(app, alice.accessToken)).id;
    socket = await connect(app, { token: alice.accessToken });
    await ok(socket, 'room:join', { roomId });
    messageId = (await ok<{ message: Message }>(socket, 'message:send', { roomId, content: 'first', clientMsgId: randomUUID() })).message.id;
  });
  afterEach(closeAll);

  const common: unknown[] = [NO_PAYLOAD, null, 42, 'text', [], [{ roomId: 'x' }], true, {}];
  const tooLong = 'x'.repeat(4001);
  const cases: Record<string, (ids: { roomId: string; messageId: string }) => unknown[]> = {
    'room:join': () => [{ roomId: 'not-a-uuid' }, { roomId: 12 }, { roomId: null }, { roomId: '' }],
    'room:leave': () => [{ roomId: 'not-a-uuid' }, { roomId: {} }],
    'room:history': ({ roomId }) => [
      { roomId: 'nope' },
      { roomId, afterSeq: 1, beforeSeq: 5 },
      { roomId, limit: 0 },
      { roomId, limit: 201 },
      { roomId, limit: 1.5 },
      { roomId, afterSeq: -1 },
      { roomId, afterSeq: '3' },
      { roomId, beforeSeq: null },
    ],
    'message:send': ({ roomId }) => [
      { roomId, content: 'hi' },
      { roomId, clientMsgId: randomUUID() },
      { content: 'hi', clientMsgId: randomUUID() },
      { roomId, content: '', clientMsgId: randomUUID() },
      { roomId, content: tooLong, clientMsgId: randomUUID() },
      { roomId, content: 42, clientMsgId: randomUUID() },
      { roomId, content: 'hi', clientMsgId: 'not-a-uuid' },
      { roomId: 'not-a-uuid', content: 'hi', clientMsgId: randomUUID() },
      { roomId, content: ['hi'], clientMsgId: randomUUID() },
    ],
    'message:edit': ({ messageId }) => [
      { messageId },
      { content: 'x' },
      { messageId: 'abc', content: 'x' },
      { messageId: '0', content: 'x' },
      { messageId: Number(messageId), content: 'x' },
      { messageId, content: '' },
      { messageId, content: tooLong },
      { messageId: '9'.repeat(30), content: 'x' },
    ],
    'message:delete': ({ messageId }) => [{ messageId: Number(messageId) }, { messageId: '-1' }, { messageId: '1e3' }, { id: messageId }],
    typing: ({ roomId }) => [{ roomId }, { roomId, typing: 'yes' }, { roomId: 'nope', typing: true }, { typing: true }],
    'auth:refresh': () => [{ token: '' }, { token: 42 }, { token: 'x'.repeat(5000) }, { jwt: 'x' }],
  };

  for (const [event, specific] of Object.entries(cases)) {
    it(`when ${event} gets a malformed payload, then every ack is validation_failed and the socket stays connected`, async () => {
      for (const payload of [...common, ...specific({ roomId, messageId })]) {
        const ack = await emitRaw(socket, event, payload);
        expect(ack.ok, `${event} ${describePayload(payload)}`).to.equal(false);
        expect(!ack.ok && ack.error.code, `${event} ${describePayload(payload)}`).to.equal('validation_failed');
        expect(!ack.ok && ack.error.message).to.be.a('string');
      }
      expect(socket.connected).to.equal(true);
      await ok(socket, 'room:history', { roomId });
    });
  }

  it('when events are emitted without an ack function, then nothing crashes and later events are answered', async () => {
    for (const event of Object.keys(cases)) {
      (socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit(event, { roomId });
      (socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit(event);
    }
    socket.emit('message:send', { roomId, content: 'no ack', clientMsgId: randomUUID() } as never, undefined as never);
    await sleep(200);
    expect(socket.connected).to.equal(true);
    const history = await ok<{ messages: Message[] }>(socket, 'room:history', { roomId });
    expect(history.messages.map((m) => m.content)).to.include('no ack');
  });

  it('when unknown events or an event named "error" arrive, then the server ignores them and keeps answering', async () => {
    const other = await connect(app, { token: (await registerUser(app)).accessToken });
    const raw = socket as unknown as { emit(event: string, ...args: unknown[]): void };
    raw.emit('no:such:event', { roomId });
    raw.emit('no:such:event', { roomId }, () => {});
    raw.emit('error', { boom: true });
    raw.emit('__proto__', {});
    raw.emit('constructor', {});
    raw.emit('hasOwnProperty', {});
    await sleep(200);
    expect((await http(app, 'GET', '/healthz')).status).to.equal(200);
    await ok(other, 'room:join', { roomId });
    expect(socket.connected).to.equal(true);
    await ok(socket, 'room:history', { roomId });
  });

  it('when raw packets carry non-string event names or broken JSON, then the server survives and serves other sockets', async () => {
    const other = await connect(app, { token: (await registerUser(app)).accessToken });
    const packets = ['42/chat,[{"toString":"x"}]', '42/chat,[123,{}]', '42/chat,0[456]', '42/chat,[]', '42/chat,[null]', '42/chat,{"a":1}', '42/chat,[', '4999', '42/chat,["error"]'];
    for (const packet of packets) {
      if (!socket.connected) break;
      socket.io.engine.write(packet);
      await sleep(30);
    }
    await sleep(200);
    expect((await http(app, 'GET', '/healthz')).status).to.equal(200);
    await ok(other, 'room:join', { roomId });
    await ok(other, 'message:send', { roomId, content: 'still here', clientMsgId: randomUUID() });
  });

  it('when a packet is larger than MAX_PACKET_BYTES, then only that socket is disconnected', async () => {
    const bystander = await connect(app, { token: (await registerUser(app)).accessToken });
    await ok(bystander, 'room:join', { roomId });
    const disconnected = nextEvent<string>(socket, 'disconnect');

    socket.emit('message:send', { roomId, content: 'x'.repeat(70_000), clientMsgId: randomUUID() }, () => {});

    expect(await disconnected).to.be.oneOf(['transport close', 'transport error']);
    expect(bystander.connected).to.equal(true);
    const ack = await ok<{ message: Message }>(bystander, 'message:send', { roomId, content: 'unaffected', clientMsgId: randomUUID() });
    expect(ack.message.seq).to.equal(2);
  });
});
