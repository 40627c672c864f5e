import { expect } from 'chai';
import { changeOf, latestKindOf, RoomSequencer, type Sequenced } from '../server/realtime/room-sequencer.js';
import type { CommittedKind, CommittedMessage, MemberChange, Message } from '../server/protocol.js';

// Pure logic: no server, no database. The sequencer orders a room's changes
// by change number; in these tests message n is created by change n unless
// a test says otherwise.
const message = (change: number, over: Partial<Message> = {}): Message => ({
  id: String(change),
  roomId: 'room-1',
  seq: change,
  change,
  mentions: [],
  replyToSeq: null,
  replyCount: 0,
  lastReplyAt: null,
  userId: 'user-1',
  username: 'user',
  content: `m${change}`,
  clientMsgId: `00000000-0000-4000-8000-${String(change).padStart(12, '0')}`,
  createdAt: new Date(0).toISOString(),
  editedAt: null,
  deleted: false,
  ...over,
});
const item = (change: number, originSocketId: string | null = 'sock', kind?: CommittedKind): CommittedMessage => ({
  message: message(change),
  originSocketId,
  ...(kind ? { kind } : {}),
});
const changesOf = (items: Sequenced[]) => items.map(changeOf);
/** The message changes of a release (this file's releases hold no membership change). */
const messagesOf = (items: Sequenced[]) => items.filter((i): i is CommittedMessage => 'message' in i);
/** A sequencer expecting change 1 that has already been handed `changes` (each from socket 'sock'). */
const sequencerAfter = (...changes: number[]) => {
  const sequencer = new RoomSequencer(1);
  for (const change of changes) sequencer.push(item(change));
  return sequencer;
};

describe('RoomSequencer', () => {
  it('when changes arrive in order, then each is released at once', () => {
    const sequencer = new RoomSequencer(1);

    expect(changesOf(sequencer.push(item(1)))).to.deep.equal([1]);
    expect(changesOf(sequencer.push(item(2)))).to.deep.equal([2]);
    expect(sequencer.expected).to.equal(3);
    expect(sequencer.hasGap).to.equal(false);
  });

  it('when n+2 arrives before n+1, then it waits and both are released in order when n+1 comes', () => {
    const sequencer = new RoomSequencer(1);

    expect(changesOf(sequencer.push(item(1)))).to.deep.equal([1]);
    expect(changesOf(sequencer.push(item(3)))).to.deep.equal([]);
    expect(sequencer.hasGap).to.equal(true);
    expect(sequencer.highestWaiting).to.equal(3);
    expect(changesOf(sequencer.push(item(2)))).to.deep.equal([2, 3]);
    expect(sequencer.hasGap).to.equal(false);
  });

  it('when an edit is numbered before a send, then they are released by change number, not by seq', () => {
    const sequencer = new RoomSequencer(5);
    const edit: Sequenced = { message: message(5, { seq: 2, editedAt: new Date(1).toISOString() }), kind: 'updated', originSocketId: null };
    const send: Sequenced = { message: message(6, { seq: 4 }), originSocketId: 'sock' };

    expect(sequencer.push(send)).to.deep.equal([]);
    expect(sequencer.push(edit)).to.deep.equal([edit, send]);
  });

  it('when a change repeats or is older than the start, then it is dropped', () => {
    const sequencer = new RoomSequencer(5);

    expect(sequencer.push(item(4))).to.deep.equal([]);
    expect(changesOf(sequencer.push(item(5)))).to.deep.equal([5]);
    expect(sequencer.push(item(5))).to.deep.equal([]);
    expect(sequencer.push(item(7))).to.deep.equal([]);
    expect(sequencer.push(item(7))).to.deep.equal([]);
    expect(changesOf(sequencer.push(item(6)))).to.deep.equal([6, 7]);
  });

  it('when a gap is filled from the database, then the filled changes go to everyone with the kind their row records and the waiting ones keep their origin', () => {
    const sequencer = new RoomSequencer(1);
    sequencer.push(item(4, 'sender-of-4'));

    const released = sequencer.fill([message(1), message(2, { editedAt: new Date(1).toISOString() }), message(3, { deleted: true, content: '' })], 4);

    expect(changesOf(released)).to.deep.equal([1, 2, 3, 4]);
    expect(messagesOf(released).map((i) => i.originSocketId)).to.deep.equal([null, null, null, 'sender-of-4']);
    expect(messagesOf(released).map((i) => i.kind)).to.deep.equal(['new', 'updated', 'deleted', undefined]);
    expect(sequencer.hasGap).to.equal(false);
    expect(sequencer.expected).to.equal(5);
  });

  it('when the fill overlaps what already arrived or was delivered, then nothing is released twice', () => {
    const sequencer = sequencerAfter(1, 3, 5);

    const released = sequencer.fill([message(2), message(3), message(4)], 5);

    expect(changesOf(released)).to.deep.equal([2, 3, 4, 5]);
    expect(messagesOf(released).find((i) => i.message.change === 3)?.originSocketId).to.equal('sock');
  });

  it('when membership changes (issue 14) share the room\'s numbers, then they wait, fill and release in change order with the messages', () => {
    const member = (change: number): MemberChange => ({ roomId: 'room-1', userId: `user-${change}`, username: `u${change}`, kind: 'joined', change, at: new Date(0).toISOString() });
    const sequencer = sequencerAfter(1);

    const waiting = sequencer.push({ member: member(4) });
    const released = sequencer.fill([message(3)], 4, [member(2)]);

    expect(waiting).to.deep.equal([]);
    expect(changesOf(released)).to.deep.equal([2, 3, 4]);
    expect(released.map((i) => ('member' in i ? 'member' : 'message'))).to.deep.equal(['member', 'message', 'member']);
    expect(sequencer.expected).to.equal(5);
  });

  it('when a number in the filled range has no row, then it was superseded and is skipped', () => {
    // Change 2 created a message that change 4 edited: the row now carries 4, and 2 is nowhere.
    const sequencer = sequencerAfter(1, 5);

    const released = sequencer.fill([message(3), message(4, { seq: 2, editedAt: new Date(1).toISOString() })], 5);

    expect(changesOf(released)).to.deep.equal([3, 4, 5]);
    expect(sequencer.hasGap).to.equal(false);
    expect(sequencer.expected).to.equal(6);
  });

  it('when a superseded number is followed by its later change still on its way, then the sequencer waits for that one', () => {
    // 2 was superseded by 4, which has not arrived yet; the fill read up to 3 only.
    const sequencer = sequencerAfter(1, 5);

    expect(changesOf(sequencer.fill([message(3)], 4))).to.deep.equal([3]);
    expect(sequencer.expected).to.equal(4);
    expect(sequencer.hasGap).to.equal(true);
    expect(changesOf(sequencer.push(item(4, null, 'updated')))).to.deep.equal([4, 5]);
  });

  it('when a fill read only part of the gap, then the numbers past it are not taken as superseded', () => {
    const sequencer = sequencerAfter(9);

    expect(changesOf(sequencer.fill([message(1), message(2)], 3))).to.deep.equal([1, 2]);
    expect(sequencer.hasGap).to.equal(true);
    expect(sequencer.expected).to.equal(3);
  });

  it('latestKindOf: a tombstone was deleted, an edited message updated, any other new', () => {
    expect(latestKindOf(message(1))).to.equal('new');
    expect(latestKindOf(message(1, { editedAt: new Date(1).toISOString() }))).to.equal('updated');
    expect(latestKindOf(message(1, { editedAt: new Date(1).toISOString(), deleted: true }))).to.equal('deleted');
  });

  it('latestKindOf: a message with replies changed after its creation (a gap fill re-sends it as updated, not as new)', () => {
    expect(latestKindOf(message(3, { replyCount: 1, lastReplyAt: new Date(1).toISOString() }))).to.equal('updated');
    expect(latestKindOf(message(3, { replyCount: 1, lastReplyAt: new Date(1).toISOString(), deleted: true }))).to.equal('deleted');
  });
});
