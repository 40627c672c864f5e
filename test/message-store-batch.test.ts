import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { MessageStore, type PendingMessage } from '../db/stores/message-store.js';
import { MuteStore } from '../db/stores/mute-store.js';
import { RoomStore } from '../db/stores/room-store.js';
import { UserStore } from '../db/stores/user-store.js';
import type { Role } from '../server/protocol.js';
import { environment } from './support/environment.js';
import { uniqueName } from './support/util.js';

// The group-commit batch applies every room rule per message, so one
// transaction can mix messages that are stored, repeated and refused.
describe('MessageStore.appendBatch', () => {
  const stores = () => {
    const { knex } = environment.get().database;
    return { messages: new MessageStore(knex), rooms: new RoomStore(knex), users: new UserStore(knex), mutes: new MuteStore(knex) };
  };
  const newUser = async () => {
    const name = uniqueName('batch');
    const user = await stores().users.create({ username: name, email: `${name}@example.test`, passwordHash: 'x' });
    return { id: user.id, username: user.username };
  };
  const send = (roomId: string, user: { id: string; username: string }, role: Role = 'member', clientMsgId = randomUUID()): PendingMessage => ({
    roomId,
    userId: user.id,
    username: user.username,
    role,
    content: `hello ${clientMsgId.slice(0, 4)}`,
    clientMsgId,
  });

  it('when one batch mixes allowed, hidden, read-only, archived, muted and repeated sends, then each gets its own outcome and the stored ones get consecutive seqs', async () => {
    const { messages, rooms, mutes } = stores();
    const [owner, member, outsider, mutedUser] = [await newUser(), await newUser(), await newUser(), await newUser()];
    const open = await rooms.create({ name: 'open', visibility: 'public', readOnly: false, createdBy: owner.id });
    const hidden = await rooms.create({ name: 'hidden', visibility: 'private', readOnly: false, createdBy: owner.id });
    await rooms.addMember(hidden.id, member.id);
    const readOnly = await rooms.create({ name: 'ro', visibility: 'public', readOnly: true, createdBy: owner.id });
    const archived = await rooms.create({ name: 'arch', visibility: 'public', readOnly: false, createdBy: owner.id });
    await rooms.update(archived.id, { archived: true });
    await mutes.set(open.id, mutedUser.id, 5);
    const repeatedId = randomUUID();

    const outcomes = await messages.appendBatch([
      send(open.id, member),
      send(hidden.id, outsider),
      send(hidden.id, member),
      send(readOnly.id, member),
      send(readOnly.id, owner, 'admin'),
      send(archived.id, owner, 'admin'),
      send(open.id, mutedUser),
      send(open.id, outsider, 'member', repeatedId),
      send(open.id, outsider, 'member', repeatedId),
      send(`${randomUUID()}`, member),
    ]);

    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.status))).to.deep.equal([
      'stored',
      'room_not_found',
      'stored',
      'read_only',
      'stored',
      'archived',
      'muted',
      'stored',
      'duplicate',
      'room_not_found',
    ]);
    const seqsInOpen = outcomes.filter((o, i) => o.status === 'stored' && [0, 7].includes(i)).map((o) => (o as { message: { seq: number } }).message.seq);
    expect(seqsInOpen).to.deep.equal([1, 2]);
    const repeat = outcomes[8] as { message: { id: string } };
    expect(repeat.message.id).to.equal((outcomes[7] as { message: { id: string } }).message.id);
  });

  it('when a clientMsgId stored in an earlier batch comes again, then the original message is answered and the seq does not move', async () => {
    const { messages, rooms } = stores();
    const user = await newUser();
    const room = await rooms.create({ name: 'again', visibility: 'public', readOnly: false, createdBy: user.id });
    const first = send(room.id, user);
    const [stored] = await messages.appendBatch([first]);

    const [again, next] = await messages.appendBatch([first, send(room.id, user)]);

    expect(again).to.deep.equal({ status: 'duplicate', message: (stored as { message: unknown }).message });
    expect(next).to.have.property('status', 'stored');
    expect((next as { message: { seq: number } }).message.seq).to.equal(2);
    expect((await rooms.findById(room.id))!.lastSeq).to.equal(2);
  });

  it('when content has quotes, backslashes, braces and non-ASCII, then it is stored and read back byte for byte', async () => {
    const { messages, rooms } = stores();
    const user = await newUser();
    const room = await rooms.create({ name: 'text', visibility: 'public', readOnly: false, createdBy: user.id });
    const content = `it's "quoted" \\ {a,b} NULL ü 🎉 ,`;

    const [outcome] = await messages.appendBatch([{ ...send(room.id, user), content }]);

    expect((outcome as { message: { content: string } }).message.content).to.equal(content);
    const { messages: history } = await messages.history(room.id, { limit: 10 });
    expect(history.map((m) => m.content)).to.deep.equal([content]);
  });
  it('when one batch interleaves many rooms that already hold messages, then each room continues its own seqs in batch order', async () => {
    const { messages, rooms } = stores();
    const user = await newUser();
    const roomIds: string[] = [];
    for (let i = 0; i < 20; i++) roomIds.push((await rooms.create({ name: `many ${i}`, visibility: 'public', readOnly: false, createdBy: user.id })).id);
    await messages.appendBatch(roomIds.slice(0, 10).map((roomId) => send(roomId, user))); // rooms 0-9 start at seq 1

    const batch = [0, 1, 2].flatMap(() => roomIds.map((roomId) => send(roomId, user)));
    const outcomes = await messages.appendBatch(batch);

    const seqsOf = (roomId: string) =>
      outcomes.filter((_, i) => batch[i]!.roomId === roomId).map((o) => (o as { message: { seq: number; content: string } }).message);
    roomIds.forEach((roomId, index) => {
      const expected = index < 10 ? [2, 3, 4] : [1, 2, 3];
      const stored = seqsOf(roomId);
      expect(stored.map((m) => m.seq), `room ${index}`).to.deep.equal(expected);
      // Batch order within the room: the seqs follow the order the sends came in.
      expect(stored.map((m) => m.content)).to.deep.equal(batch.filter((b) => b.roomId === roomId).map((b) => b.content));
    });
    for (const [index, roomId] of roomIds.entries()) expect((await rooms.findById(roomId))!.lastSeq).to.equal(index < 10 ? 4 : 3);
  });

  it('when a clientMsgId comes again in another letter case, then it is the same send (PostgreSQL compares uuids case-blind)', async () => {
    const { messages, rooms } = stores();
    const user = await newUser();
    const room = await rooms.create({ name: 'case', visibility: 'public', readOnly: false, createdBy: user.id });
    const id = randomUUID();

    const [first, sameBatch] = await messages.appendBatch([send(room.id, user, 'member', id.toUpperCase() as typeof id), send(room.id, user, 'member', id)]);
    const [later] = await messages.appendBatch([send(room.id, user, 'member', id)]);

    expect(first).to.have.property('status', 'stored');
    const original = (first as { message: { id: string } }).message.id;
    for (const repeat of [sameBatch, later]) {
      expect(repeat).to.have.property('status', 'duplicate');
      expect((repeat as { message: { id: string } }).message.id).to.equal(original);
    }
    expect((await rooms.findById(room.id))!.lastSeq).to.equal(1);
  });
});
