import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import { RoomcastError, type Message, type TypingEvent } from '../client-sdk/src/index.js';
import { closeClientsAfterEach, received, signedUpClient } from './support/sdk.js';
import { startNode, uniqueName, waitFor } from './support/util.js';

describe('client SDK: happy path', () => {
  let app: RoomcastApp;

  beforeEach(async () => {
    app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
  });
  closeClientsAfterEach();

  it('when two users register, create and join a room, then both see every message once in seq order, own sends included, equal to the history', async () => {
    const { client: alice } = await signedUpClient(app);
    const { client: bob } = await signedUpClient(app);
    const created = await alice.rooms.create({ name: uniqueName('room') });
    expect((await bob.rooms.list()).map((r) => r.id)).to.include(created.id);
    expect(await bob.rooms.get(created.id)).to.include({ id: created.id, name: created.name });

    const states: string[] = [];
    alice.on('state', (s) => states.push(s.state));
    await alice.connect();
    const roomA = await alice.join(created.id);
    const roomB = await bob.join(created.id);
    const seenA = received(roomA);
    const seenB = received(roomB);

    const m1 = await roomA.send('hello bob');
    const m2 = await roomB.send('hi alice');
    const m3 = await roomA.send('how are you?');

    expect([m1.seq, m2.seq, m3.seq]).to.deep.equal([1, 2, 3]);
    expect(m1).to.include({ content: 'hello bob', roomId: created.id, username: alice.user!.username });
    await waitFor(() => seenA.length === 3 && seenB.length === 3, 5_000, 'deliveries');
    expect(seenA).to.deep.equal([m1, m2, m3]);
    expect(seenB).to.deep.equal([m1, m2, m3]);
    const page = await roomB.history({ limit: 50 });
    expect(page.messages).to.deep.equal([m1, m2, m3]);
    expect(states).to.deep.equal(['connecting', 'connected']);
    expect(alice.state).to.equal('connected');
    expect(roomA.online.map((u) => u.userId)).to.include(bob.user!.id);
  });

  it('when a user pages back with beforeSeq, then pages are oldest-first and meet without overlap', async () => {
    const { client } = await signedUpClient(app);
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);
    for (let i = 1; i <= 7; i++) await room.send(`m${i}`);

    const latest = await room.history({ limit: 3 });
    const before = await room.history({ beforeSeq: latest.messages[0]!.seq, limit: 3 });
    const first = await room.history({ beforeSeq: before.messages[0]!.seq, limit: 3 });

    expect(latest.messages.map((m) => m.seq)).to.deep.equal([5, 6, 7]);
    expect(before.messages.map((m) => m.seq)).to.deep.equal([2, 3, 4]);
    expect(first.messages.map((m) => m.seq)).to.deep.equal([1]);
    expect(first.hasMore).to.equal(false);
  });

  it('when a user types, then the other member gets a typing event; after leave, sends are rejected and no more messages arrive', async () => {
    const { client: alice } = await signedUpClient(app);
    const { client: bob } = await signedUpClient(app);
    const created = await alice.rooms.create({ name: uniqueName('room') });
    const roomA = await alice.join(created.id);
    const roomB = await bob.join(created.id);
    const typing: TypingEvent[] = [];
    roomB.on('typing', (t) => typing.push(t));

    await roomA.setTyping(true);
    await waitFor(() => typing.length === 1, 5_000, 'typing');
    await roomB.leave();
    await roomA.send('after bob left');

    expect(typing[0]).to.include({ roomId: created.id, userId: alice.user!.id, typing: true });
    const err = await roomB.send('too late').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RoomcastError);
    expect((err as RoomcastError).code).to.equal('unavailable');
    expect(bob.room(created.id)).to.equal(undefined);
  });

  it('when the server refuses a send, then it rejects with the contract code and later sends still go out', async () => {
    const { client } = await signedUpClient(app);
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);
    const seen = received(room);

    const tooLong = await room.send('x'.repeat(4001)).catch((e: unknown) => e);
    const fine = await room.send('fine');

    expect(tooLong).to.be.instanceOf(RoomcastError);
    expect((tooLong as RoomcastError).code).to.equal('validation_failed');
    expect(fine.seq).to.equal(1);
    await waitFor(() => seen.length === 1);
    expect(seen.map((m: Message) => m.content)).to.deep.equal(['fine']);
  });

  it('when joining a room that does not exist, then join rejects with not_found', async () => {
    const { client } = await signedUpClient(app);
    const err = await client.join('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RoomcastError);
    expect((err as RoomcastError).code).to.equal('not_found');
  });

  it('when the login is wrong, then login rejects with invalid_credentials', async () => {
    const { client, username } = await signedUpClient(app);
    const err = await client.login(username, 'wrong-password').catch((e: unknown) => e);
    expect((err as RoomcastError).code).to.equal('invalid_credentials');
  });
});
