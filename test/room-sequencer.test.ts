import { expect } from 'chai';
import { RoomSequencer, type Sequenced } from '../server/realtime/room-sequencer.js';
import type { Message } from '../server/protocol.js';

// Pure logic: no server, no database.
const message = (seq: number): Message => ({
  id: String(seq),
  roomId: 'room-1',
  seq,
  userId: 'user-1',
  username: 'user',
  content: `m${seq}`,
  clientMsgId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
  createdAt: new Date(0).toISOString(),
  editedAt: null,
  deleted: false,
});
const item = (seq: number, originSocketId: string | null = 'sock'): Sequenced => ({ message: message(seq), originSocketId });
const seqsOf = (items: Sequenced[]) => items.map((i) => i.message.seq);
/** A sequencer expecting seq 1 that has already been handed `seqs` (each from socket 'sock'). */
const sequencerAfter = (...seqs: number[]) => {
  const sequencer = new RoomSequencer(1);
  for (const seq of seqs) sequencer.push(item(seq));
  return sequencer;
};

describe('RoomSequencer', () => {
  it('when messages arrive in order, then each is released at once', () => {
    const sequencer = new RoomSequencer(1);

    expect(seqsOf(sequencer.push(item(1)))).to.deep.equal([1]);
    expect(seqsOf(sequencer.push(item(2)))).to.deep.equal([2]);
    expect(sequencer.expected).to.equal(3);
    expect(sequencer.hasGap).to.equal(false);
  });

  it('when n+2 arrives before n+1, then it waits and both are released in order when n+1 comes', () => {
    const sequencer = new RoomSequencer(1);

    expect(seqsOf(sequencer.push(item(1)))).to.deep.equal([1]);
    expect(seqsOf(sequencer.push(item(3)))).to.deep.equal([]);
    expect(sequencer.hasGap).to.equal(true);
    expect(sequencer.highestWaiting).to.equal(3);
    expect(seqsOf(sequencer.push(item(2)))).to.deep.equal([2, 3]);
    expect(sequencer.hasGap).to.equal(false);
  });

  it('when a message repeats or is older than the start, then it is dropped', () => {
    const sequencer = new RoomSequencer(5);

    expect(sequencer.push(item(4))).to.deep.equal([]);
    expect(seqsOf(sequencer.push(item(5)))).to.deep.equal([5]);
    expect(sequencer.push(item(5))).to.deep.equal([]);
    expect(sequencer.push(item(7))).to.deep.equal([]);
    expect(sequencer.push(item(7))).to.deep.equal([]);
    expect(seqsOf(sequencer.push(item(6)))).to.deep.equal([6, 7]);
  });

  it('when a gap is filled from the database, then the filled messages go to everyone and the waiting ones keep their origin', () => {
    const sequencer = new RoomSequencer(1);
    sequencer.push(item(4, 'sender-of-4'));

    const released = sequencer.fill([message(1), message(2), message(3)]);

    expect(seqsOf(released)).to.deep.equal([1, 2, 3, 4]);
    expect(released.map((i) => i.originSocketId)).to.deep.equal([null, null, null, 'sender-of-4']);
    expect(sequencer.hasGap).to.equal(false);
    expect(sequencer.expected).to.equal(5);
  });

  it('when the fill overlaps what already arrived or was delivered, then nothing is released twice', () => {
    const sequencer = sequencerAfter(1, 3, 5);

    const released = sequencer.fill([message(1), message(2), message(3), message(4)]);

    expect(seqsOf(released)).to.deep.equal([2, 3, 4, 5]);
    expect(released.find((i) => i.message.seq === 3)?.originSocketId).to.equal('sock');
  });

  it('when a fill only partly closes the gap, then the rest keeps waiting', () => {
    const sequencer = sequencerAfter(4);

    expect(seqsOf(sequencer.fill([message(1)]))).to.deep.equal([1]);
    expect(sequencer.hasGap).to.equal(true);
    expect(sequencer.expected).to.equal(2);
  });

  it('when missing seqs cannot be found, then skipGap moves on to the lowest waiting message', () => {
    const sequencer = sequencerAfter(3, 4, 6);

    expect(seqsOf(sequencer.skipGap())).to.deep.equal([3, 4]);
    expect(sequencer.hasGap).to.equal(true);
    expect(seqsOf(sequencer.skipGap())).to.deep.equal([6]);
    expect(sequencer.skipGap()).to.deep.equal([]);
  });
});
