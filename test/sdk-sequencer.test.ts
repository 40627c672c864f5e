// Unit tests of the SDK's pure logic: ordering, backoff, ids (no server needed).
import { expect } from 'chai';
import { RoomSequencer } from '../client-sdk/src/room-sequencer.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../client-sdk/src/backoff.js';
import { uuidV4FromBytes } from '../client-sdk/src/ids.js';
import type { HistoryPage, Message } from '../client-sdk/src/protocol.js';

const msg = (seq: number): Message => ({
  id: String(seq),
  roomId: 'r',
  seq,
  change: seq,
  mentions: [],
  userId: 'u',
  username: 'u',
  content: `m${seq}`,
  clientMsgId: `c${seq}`,
  createdAt: new Date(0).toISOString(),
  editedAt: null,
  deleted: false,
});

function harness(stored: number, lastSeq: number | null = null) {
  const delivered: number[] = [];
  const fetches: number[] = [];
  const sequencer = new RoomSequencer(
    {
      deliver: (m) => delivered.push(m.seq),
      fetchAfter: async (after): Promise<HistoryPage> => {
        fetches.push(after);
        const messages = Array.from({ length: Math.max(0, Math.min(2, stored - after)) }, (_, i) => msg(after + i + 1));
        return { messages, hasMore: after + messages.length < stored };
      },
      onFillError: (err) => {
        throw err;
      },
    },
    lastSeq,
  );
  return { sequencer, delivered, fetches };
}

describe('RoomSequencer', () => {
  it('when messages arrive in order, then each is delivered at once and repeats are dropped', () => {
    const { sequencer, delivered, fetches } = harness(0);
    sequencer.start(0);
    for (const seq of [1, 2, 2, 3, 1]) sequencer.accept(msg(seq));
    expect(delivered).to.deep.equal([1, 2, 3]);
    expect(fetches).to.deep.equal([]);
  });

  it('when a live message skips ahead, then the gap is fetched from history (paging) before it is delivered', async () => {
    const { sequencer, delivered, fetches } = harness(6);
    sequencer.start(1);
    sequencer.accept(msg(6));
    expect(delivered).to.deep.equal([]);
    await sequencer.fill();
    expect(delivered).to.deep.equal([2, 3, 4, 5, 6]);
    expect(fetches).to.deep.equal([1, 3]); // 6 was waiting already: no third page
  });

  it('when messages arrive before the join answer, then they wait and only those after lastSeq are delivered', () => {
    const { sequencer, delivered } = harness(0);
    sequencer.accept(msg(5));
    sequencer.accept(msg(4));
    sequencer.start(3);
    expect(delivered).to.deep.equal([4, 5]);
  });

  it('when a re-join reports a higher lastSeq, then the client catches up from its own lastSeq', async () => {
    const { sequencer, delivered, fetches } = harness(4, 1);
    sequencer.start(4);
    await sequencer.fill();
    expect(delivered).to.deep.equal([2, 3, 4]);
    expect(fetches[0]).to.equal(1);
  });
});

describe('backoffDelay', () => {
  it('is full jitter: 0 up to min·factor^attempt, capped at max', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0.999)).to.equal(499);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).to.equal(2_000);
    expect(backoffDelay(30, DEFAULT_BACKOFF, () => 0.999)).to.equal(19_980);
    expect(backoffDelay(5, DEFAULT_BACKOFF, () => 0)).to.equal(0);
  });
});

describe('uuidV4FromBytes', () => {
  it('formats 16 bytes as a UUID v4 (the fallback where crypto.randomUUID is missing)', () => {
    const id = uuidV4FromBytes(new Uint8Array(16).fill(0xff));
    expect(id).to.equal('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(uuidV4FromBytes(new Uint8Array(16))).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
