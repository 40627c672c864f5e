import { expect } from 'chai';
import type { AppendOutcome, MessageStore } from '../db/stores/message-store.js';
import { AppError } from '../server/errors.js';
import { createLogger } from '../server/logger.js';
import { MessageWriter, type SendRequest } from '../server/messages/message-writer.js';
import type { CommittedMessage, Message } from '../server/protocol.js';

// Pure logic of the send deadline (issue 18: one timer for all waiting sends
// instead of one per send): a store that answers only when the test says so.

const request = (n: number): SendRequest => ({
  roomId: 'room-1',
  userId: 'user-1',
  username: 'user',
  role: 'member',
  content: `m${n}`,
  clientMsgId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  originSocketId: `socket-${n}`,
});

const stored = (r: SendRequest, seq: number): AppendOutcome => ({
  status: 'stored',
  message: {
    id: `id-${seq}`,
    roomId: r.roomId,
    seq,
    change: seq,
    mentions: [],
    replyToSeq: null,
    replyCount: 0,
    lastReplyAt: null,
    userId: r.userId,
    username: r.username,
    content: r.content,
    clientMsgId: r.clientMsgId,
    createdAt: new Date(0).toISOString(),
    editedAt: null,
    deleted: false,
  },
});

/** A store whose batches wait until `answer()`; each batch's sends are stored with the next seqs. */
function heldStore() {
  const held: Array<{ requests: SendRequest[]; resolve: (o: AppendOutcome[]) => void }> = [];
  let seq = 0;
  const store = {
    appendBatch: (requests: SendRequest[]) => new Promise<AppendOutcome[]>((resolve) => held.push({ requests, resolve })),
  } as unknown as MessageStore;
  const answer = () => {
    const batch = held.shift()!;
    batch.resolve(batch.requests.map((r) => stored(r, ++seq)));
  };
  return { store, answer, held };
}

const outcome = (p: Promise<Message>) =>
  p.then(
    (message) => ({ message }),
    (error: unknown) => ({ error }),
  );

const logger = createLogger('error', 'test');
const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).to.equal(true);
};

describe('MessageWriter send deadline', () => {
  it('when the database does not answer, then every waiting send (in the running batch and queued behind it) answers unavailable, and what commits later is still fanned out', async () => {
    const { store, answer, held } = heldStore();
    const published: CommittedMessage[][] = [];
    const writer = new MessageWriter(store, { publish: (batch) => published.push(batch) }, logger, undefined, 40);
    const first = outcome(writer.submit(request(1)));
    await until(() => held.length === 1);
    const queued = [outcome(writer.submit(request(2))), outcome(writer.submit(request(3)))];
    for (const result of await Promise.all([first, ...queued])) {
      expect(result).to.have.property('error').that.is.instanceOf(AppError).with.property('code', 'unavailable');
    }
    // The statement commits after all: the stored message goes out to the room (its retry answers it).
    answer();
    await until(() => held.length === 1);
    answer();
    await until(() => published.length === 2);
    expect(published.flat().map((c) => c.message.seq)).to.deep.equal([1, 2, 3]);
    await writer.drain();
  });

  it('when a batch commits before the deadline, then its sends answer the stored message and none of them answers unavailable later', async () => {
    const { store, answer, held } = heldStore();
    const writer = new MessageWriter(store, { publish: () => undefined }, logger, undefined, 60);
    const sends = [1, 2, 3].map((n) => outcome(writer.submit(request(n))));
    await until(() => held.length === 1);
    answer();
    const results = await Promise.all(sends);
    expect(results.map((r) => ('message' in r ? r.message.seq : r.error))).to.deep.equal([1, 2, 3]);
    // Past the deadline a later send still gets its own full deadline, and commits.
    await new Promise((r) => setTimeout(r, 80));
    const late = outcome(writer.submit(request(4)));
    await until(() => held.length === 1);
    answer();
    expect(await late).to.have.nested.property('message.seq', 4);
    await writer.drain();
  });
});
