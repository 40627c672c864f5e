import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Server } from 'socket.io';
import { MessageStore } from '../db/stores/message-store.js';
import { MessageDelivery } from '../server/realtime/message-delivery.js';
import type { Message } from '../server/protocol.js';
import { roomChannel } from '../server/realtime/channels.js';
import type { ChatNamespace, RoomcastServer } from '../server/realtime/types.js';
import { environment } from './support/environment.js';
import { closeAll, collect, nextEvent, openSocket, testLogger, uniqueName, waitFor, type ChatClient } from './support/util.js';

// MessageDelivery on a real Socket.IO server and client, without the rest of
// the app: the join window (socket in the room, lastSeq not yet read) is
// opened by hand here, where in the app it is a race.
describe('MessageDelivery: joins and gaps', () => {
  let io: RoomcastServer;
  let chat: ChatNamespace;
  let delivery: MessageDelivery;
  let client: ChatClient;
  const roomId = randomUUID();

  const message = (seq: number): Message => ({
    id: String(1_000_000 + seq),
    roomId,
    seq,
    change: seq,
    mentions: [],
    replyToSeq: null,
    replyCount: 0,
    lastReplyAt: null,
    userId: randomUUID(),
    username: 'someone',
    content: `m${seq}`,
    clientMsgId: randomUUID(),
    createdAt: new Date().toISOString(),
    editedAt: null,
    deleted: false,
  });
  const committed = (...seqs: number[]) => seqs.map((seq) => ({ message: message(seq), originSocketId: null }));

  beforeEach(async () => {
    const httpServer = createServer();
    io = new Server(httpServer) as RoomcastServer;
    chat = io.of('/chat');
    delivery = new MessageDelivery(chat, new MessageStore(environment.get().database.knex), testLogger(), false);
    const joined = new Promise<void>((resolve) => chat.on('connection', (socket) => void Promise.resolve(socket.join(roomChannel(roomId))).then(() => resolve())));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    client = openSocket(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`);
    await joined;
  });
  afterEach(async () => {
    delivery.close();
    await closeAll();
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });

  it('when a commit arrives after the socket joined the room but before its lastSeq was read, then it is delivered once tracking starts', async () => {
    const received = nextEvent<Message>(client, 'message:new');

    delivery.receive(committed(5));
    delivery.track(roomId, 4);

    expect((await received).seq).to.equal(5);
  });

  it('when commits held for a join are already in the history it read, then only the newer ones are delivered, in order', async () => {
    const seen = collect<Message>(client, 'message:new');

    delivery.receive(committed(3, 6, 4, 5));
    delivery.track(roomId, 4);
    delivery.receive(committed(7));

    await waitFor(() => seen.length >= 3, 5_000, 'three deliveries');
    expect(seen.map((m) => m.seq)).to.deep.equal([5, 6, 7]);
  });

  it('when a change arrives behind a gap, then the gap is read from PostgreSQL by change number: each row by the kind it records, superseded numbers skipped', async () => {
    const knex = environment.get().database.knex;
    const store = new MessageStore(knex);
    const [user] = await knex('users').insert({ username: uniqueName(), email: `${randomUUID()}@example.test`, password_hash: 'x', role: 'member' }).returning('id');
    await knex('rooms').insert({ id: roomId, name: 'gap' });
    const pending = (content: string) => ({ roomId, userId: user!.id as string, username: 'u', role: 'member' as const, content, clientMsgId: randomUUID() });
    const stored = async (content: string) => ((await store.appendBatch([pending(content)]))[0] as { message: Message }).message;
    const first = await stored('one'); // change 1, superseded by change 3
    const second = await stored('two'); // change 2
    const edited = (await store.change(first.id, user!.id as string, { kind: 'edit', content: 'one, edited' }, () => null))!.message; // change 3
    const third = await stored('three'); // change 4
    const events: [string, number, string][] = [];
    client.on('message:new', (m) => events.push(['new', m.change, m.content]));
    client.on('message:updated', (m) => events.push(['updated', m.change, m.content]));

    delivery.track(roomId, 0);
    delivery.receive([{ message: third, originSocketId: null }]);

    await waitFor(() => events.length >= 3, 5_000, 'the gap to be filled');
    expect([second.change, edited.change, third.change]).to.deep.equal([2, 3, 4]);
    expect(events).to.deep.equal([
      ['new', 2, 'two'],
      ['updated', 3, 'one, edited'],
      ['new', 4, 'three'],
    ]);
  });
});
