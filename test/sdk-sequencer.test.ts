// Unit tests of the SDK's pure logic: ordering, backoff, ids (no server needed).
import { expect } from 'chai';
import fc from 'fast-check';
import { RoomSequencer, type JoinPoint, type ViewPosition } from '../client-sdk/src/room-sequencer.js';
import type { MessageDeleted, MessageSink } from '../client-sdk/src/seq-release.js';
import { comparable, RoomView } from './support/room-view.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../client-sdk/src/backoff.js';
import { uuidV4FromBytes } from '../client-sdk/src/ids.js';
import type { ChangesPage, HistoryPage, MemberChange, Message, MessageDeletedEvent } from '../client-sdk/src/protocol.js';

/** A room as the server keeps it: messages by seq, each in its current state with its latest change. */
class FakeRoom {
  lastChange = 0;
  readonly bySeq = new Map<number, Message>();
  fetches: string[] = [];

  get lastSeq(): number {
    return this.bySeq.size;
  }

  send(content = `m${this.lastSeq + 1}`): Message {
    const seq = this.lastSeq + 1;
    const message: Message = {
      id: `id${seq}`,
      roomId: 'r',
      seq,
      userId: 'u',
      username: 'u',
      content,
      clientMsgId: `c${seq}`,
      createdAt: new Date(0).toISOString(),
      editedAt: null,
      deleted: false,
      change: ++this.lastChange,
      mentions: [],
      replyToSeq: null,
      replyCount: 0,
      lastReplyAt: null,
    };
    this.bySeq.set(seq, message);
    return message;
  }

  edit(seq: number): Message {
    const old = this.bySeq.get(seq)!;
    const message = { ...old, content: `${old.content}*`, editedAt: new Date(1).toISOString(), change: ++this.lastChange };
    this.bySeq.set(seq, message);
    return message;
  }

  delete(seq: number): MessageDeletedEvent {
    const old = this.bySeq.get(seq)!;
    const message = { ...old, content: '', deleted: true, change: ++this.lastChange };
    this.bySeq.set(seq, message);
    return { id: message.id, roomId: message.roomId, seq, change: message.change };
  }

  /** A reply to `parentSeq`, and the parent's new state (replyCount, lastReplyAt: the next change, as the server numbers them). */
  reply(parentSeq: number): [Message, Message] {
    const reply = { ...this.send(), replyToSeq: parentSeq };
    this.bySeq.set(reply.seq, reply);
    const old = this.bySeq.get(parentSeq)!;
    const parent = { ...old, replyCount: old.replyCount + 1, lastReplyAt: reply.createdAt, change: ++this.lastChange };
    this.bySeq.set(parentSeq, parent);
    return [reply, parent];
  }

  changesAfter(after: number, limit = 2): ChangesPage {
    this.fetches.push(`changes>${after}`);
    const rows = [...this.bySeq.values()].filter((m) => m.change > after).sort((a, b) => a.change - b.change);
    return { changes: rows.slice(0, limit), hasMore: rows.length > limit, lastChange: this.lastChange };
  }

  historyAfter(afterSeq: number, limit = 2): HistoryPage {
    this.fetches.push(`history>${afterSeq}`);
    const rows = [...this.bySeq.values()].filter((m) => m.seq > afterSeq).sort((a, b) => a.seq - b.seq);
    return { messages: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  join(afterChange: number | null): JoinPoint {
    const page = afterChange === null ? null : this.changesAfter(afterChange);
    return { lastSeq: this.lastSeq, lastChange: this.lastChange, ...(page ? { changes: page.changes, hasMore: page.hasMore } : {}) };
  }
}

/** The app's view (RoomView) fed by the sequencer's sink; compared with the room's current state. */
class View extends RoomView {
  readonly sink: MessageSink = {
    message: (m) => this.message(m),
    updated: (m) => this.updated(m),
    deleted: (e) => this.deleted(e),
    // This fake room has no reactions.
    reaction: () => {},
  };

  expectEqual(room: FakeRoom, fromSeq = 0): void {
    expect(this.violations).to.deep.equal([]);
    expect(this.messages()).to.deep.equal([...room.bySeq.values()].filter((m) => m.seq > fromSeq).map(comparable));
  }
}

function harness(room: FakeRoom, position?: ViewPosition) {
  const view = new View();
  const errors: unknown[] = [];
  const sequencer = new RoomSequencer(
    {
      sink: view.sink,
      fetchChanges: async (after) => room.changesAfter(after),
      fetchHistory: async (afterSeq) => room.historyAfter(afterSeq),
      onFillError: (err) => errors.push(err),
    },
    position,
  );
  const settle = async () => {
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(errors).to.deep.equal([]);
  };
  return { sequencer, view, settle };
}

describe('RoomSequencer (change log)', () => {
  it('when changes arrive live in order, then each reaches the app at once, repeats are dropped and nothing is fetched', async () => {
    const room = new FakeRoom();
    const { sequencer, view, settle } = harness(room);
    sequencer.start(room.join(null));
    const m1 = room.send();
    const m2 = room.send();
    const e1 = room.edit(1);
    const d2 = room.delete(2);
    for (const m of [m1, m2, m2, e1, m1]) sequencer.acceptMessage(m);
    sequencer.acceptDeleted(d2);
    sequencer.acceptDeleted(d2);
    await settle();
    view.expectEqual(room);
    expect(room.fetches).to.deep.equal([]);
    expect(sequencer.lastChange).to.equal(4);
    expect(sequencer.lastSeq).to.equal(2);
  });

  it('when a live edit is missed, then the next change starts a catch-up that replays it before the later one', async () => {
    const room = new FakeRoom();
    const { sequencer, view, settle } = harness(room);
    sequencer.start(room.join(null));
    sequencer.acceptMessage(room.send());
    room.edit(1); // lost
    sequencer.acceptMessage(room.send());
    await settle();
    view.expectEqual(room);
    expect(room.fetches).to.deep.equal(['changes>1']);
  });

  it('when the join asks afterChange, then edits and deletes made meanwhile come as updated/deleted and new messages in their latest state', async () => {
    const room = new FakeRoom();
    for (let i = 0; i < 3; i++) room.send();
    const first = harness(room);
    first.sequencer.start(room.join(null));
    const saved: ViewPosition = { lastSeq: 3, lastChange: 3 };
    room.edit(1);
    room.delete(2);
    room.send();
    room.edit(4);
    room.send();
    room.delete(5);
    const { sequencer, view, settle } = harness(room, saved);
    const updated: number[] = [];
    const deleted: number[] = [];
    view.sink.updated = ((inner) => (m: Message) => (updated.push(m.seq), inner(m)))(view.sink.updated);
    view.sink.deleted = ((inner) => (e: MessageDeletedEvent) => (deleted.push(e.seq), inner(e)))(view.sink.deleted);
    // What the app had when it saved its view: seqs 1-3 as first sent.
    view.seed([1, 2, 3].map((seq) => ({ ...room.bySeq.get(seq)!, content: `m${seq}`, deleted: false, editedAt: null, change: seq })));
    sequencer.start(room.join(3));
    await settle();
    view.expectEqual(room);
    expect(updated).to.deep.equal([1]);
    expect(deleted).to.deep.equal([2]);
    expect(view.bySeq.get(4)?.content).to.equal('m4*');
    expect(view.bySeq.get(5)).to.include({ deleted: true, content: '' });
    expect(sequencer.lastChange).to.equal(room.lastChange);
  });

  it('when a message was created and changed while away, then the later creation waits for it (seq order) in the same catch-up', async () => {
    const room = new FakeRoom();
    const { sequencer, view, settle } = harness(room);
    sequencer.start(room.join(null));
    room.send();
    room.send();
    room.edit(1); // seq 1's latest change (3) is after seq 2's (2): the page has seq 2 first
    sequencer.suspend();
    sequencer.start(room.join(0));
    await settle();
    view.expectEqual(room);
  });

  it('when a live delete names a message the app has not seen, then its tombstone is fetched and shown as a new message', async () => {
    const room = new FakeRoom();
    const { sequencer, view, settle } = harness(room);
    sequencer.start(room.join(null));
    room.send(); // lost
    sequencer.acceptDeleted(room.delete(1));
    await settle();
    view.expectEqual(room);
    expect(view.bySeq.get(1)?.deleted).to.equal(true);
  });

  it('when a parent\'s replyCount change is missed and the parent is then deleted, then `deleted` carries the caught-up tombstone with the count', async () => {
    const room = new FakeRoom();
    const { sequencer, view, settle } = harness(room);
    const deleted: MessageDeleted[] = [];
    view.sink.deleted = ((inner) => (e: MessageDeleted) => (deleted.push(e), inner(e)))(view.sink.deleted);
    sequencer.start(room.join(null));
    sequencer.acceptMessage(room.send());
    const [reply] = room.reply(1);
    sequencer.acceptMessage(reply);
    // The parent's message:updated (replyCount 1) is lost; the live delete after it starts the catch-up, whose page holds the tombstone.
    sequencer.acceptDeleted(room.delete(1));
    await settle();
    view.expectEqual(room);
    expect(room.fetches).to.deep.equal(['changes>2']);
    expect(deleted.map((e) => e.message)).to.deep.equal([room.bySeq.get(1)]);
    expect(view.bySeq.get(1)).to.include({ deleted: true, replyCount: 1, lastReplyAt: reply.createdAt });
  });

  it('when changes arrive before the join answer or while reconnecting, then they wait and only those after lastChange are applied', async () => {
    const room = new FakeRoom();
    room.send();
    const { sequencer, view, settle } = harness(room);
    const early = room.send();
    sequencer.acceptMessage(early); // before the join: waits, then is dropped (the join's lastChange includes it)
    sequencer.start(room.join(null));
    const m3 = room.send();
    sequencer.suspend();
    sequencer.acceptMessage(room.edit(3));
    sequencer.acceptMessage(m3);
    await settle();
    expect(room.fetches).to.deep.equal([]);
    sequencer.start(room.join(sequencer.lastChange));
    await settle();
    view.expectEqual(room, 2);
  });

  it('when a join answered but the changes are not handed out yet, then the position is the join\'s and nothing reaches the app before start', async () => {
    const room = new FakeRoom();
    room.send();
    const { sequencer, view, settle } = harness(room);
    sequencer.anchor(room.join(null));
    sequencer.acceptMessage(room.send());
    await settle();
    expect(view.events).to.equal(0);
    expect([sequencer.lastSeq, sequencer.lastChange]).to.deep.equal([1, 1]);
    sequencer.start(room.join(null));
    await settle();
    view.expectEqual(room, 1);
  });

  it('when the own ack comes before the live changes before it, then it waits for them and nothing is shown twice', async () => {
    const room = new FakeRoom();
    const { sequencer, view, settle } = harness(room);
    sequencer.start(room.join(null));
    const other = room.send();
    const edit = room.edit(1);
    const own = room.send();
    sequencer.acceptMessage(own);
    sequencer.acceptMessage(other);
    sequencer.acceptMessage(edit);
    await settle();
    view.expectEqual(room);
  });

  it('when an app resumes by afterSeq only, then history fills the seqs and their live changes are not shown twice', async () => {
    const room = new FakeRoom();
    for (let i = 0; i < 5; i++) room.send();
    room.edit(4);
    const { sequencer, view, settle } = harness(room, { lastSeq: 2, lastChange: null });
    sequencer.start(room.join(null));
    await settle();
    view.expectEqual(room, 2);
    expect(room.fetches).to.deep.equal(['history>2', 'history>4']);
    sequencer.acceptMessage(room.edit(3));
    await settle();
    view.expectEqual(room, 2);
  });

  it('property: whatever live changes are lost, repeated, or cut by reconnects, the view equals the room and no change is doubled or backwards', async () => {
    type Step = { op: 'send' } | { op: 'edit' | 'delete'; pick: number } | { op: 'lose' } | { op: 'repeat' } | { op: 'reconnect' };
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.constant<Step>({ op: 'send' }) },
      { weight: 3, arbitrary: fc.nat(1000).map<Step>((pick) => ({ op: 'edit', pick })) },
      { weight: 2, arbitrary: fc.nat(1000).map<Step>((pick) => ({ op: 'delete', pick })) },
      { weight: 2, arbitrary: fc.constant<Step>({ op: 'lose' }) },
      { weight: 1, arbitrary: fc.constant<Step>({ op: 'repeat' }) },
      { weight: 1, arbitrary: fc.constant<Step>({ op: 'reconnect' }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), fc.nat(5), async (steps, before) => {
        const room = new FakeRoom();
        for (let i = 0; i < before; i++) room.send();
        const { sequencer, view, settle } = harness(room);
        view.seed([...room.bySeq.values()]);
        sequencer.start(room.join(null));
        let lose = false;
        let last: Message | MessageDeletedEvent | null = null;
        const deliver = (change: Message | MessageDeletedEvent) => {
          last = change;
          if ('content' in change) sequencer.acceptMessage(change);
          else sequencer.acceptDeleted(change);
        };
        for (const s of steps) {
          if (s.op === 'lose') lose = true;
          else if (s.op === 'repeat' && last) deliver(last);
          else if (s.op === 'reconnect') {
            sequencer.suspend();
            await settle();
            sequencer.start(room.join(sequencer.lastChange));
          } else if (s.op === 'send' || s.op === 'edit' || s.op === 'delete') {
            const live = [...room.bySeq.values()].filter((m) => !m.deleted);
            if (s.op !== 'send' && live.length === 0) continue;
            const target = s.op === 'send' ? 0 : live[s.pick % live.length]!.seq;
            const change = s.op === 'send' ? room.send() : s.op === 'edit' ? room.edit(target) : room.delete(target);
            if (lose) lose = false;
            else deliver(change);
          }
          if (s.op !== 'reconnect' && s.op !== 'lose') await settle();
        }
        // One more live change after the last (a lost change is noticed when the next one arrives).
        deliver(room.send());
        await settle();
        view.expectEqual(room);
      }),
      { numRuns: 300 },
    );
  });
});

describe('RoomSequencer: membership changes (issue 14)', () => {
  it('when a membership change is live or only in a page, then it takes its number in the stream: each once, in change order with the messages, and the catch-up ends', async () => {
    const room = new FakeRoom();
    const m1 = room.send(); // change 1
    const member = (change: number, kind: 'joined' | 'left'): MemberChange => ({ roomId: 'r', userId: `u${change}`, username: `u${change}`, kind, change, at: new Date(0).toISOString() });
    const seen: string[] = [];
    const errors: unknown[] = [];
    const view = new View();
    const sequencer = new RoomSequencer({
      sink: { message: (m) => (seen.push(`m${m.change}`), view.message(m)), updated: (m) => view.updated(m), deleted: (e) => view.deleted(e), reaction: () => {} },
      member: (c) => seen.push(`${c.kind === 'joined' ? 'j' : 'l'}${c.change}`),
      // Change 2 (a join) came live; 3 (a leave) only in the page, with message change 4; 5 arrives live. The last change of the room is a membership change (6).
      fetchChanges: async (after) => {
        room.fetches.push(`changes>${after}`);
        const changes = [{ ...room.send(), change: 4 }, { ...room.bySeq.get(3) ?? room.send(), change: 5 }].filter((m) => m.change > after);
        return { changes, members: [member(3, 'left'), member(6, 'left')].filter((m) => m.change > after), hasMore: false, lastChange: 6 };
      },
      fetchHistory: async (afterSeq) => room.historyAfter(afterSeq),
      onFillError: (err) => errors.push(err),
    });
    sequencer.start({ lastSeq: 1, lastChange: 1 });
    void m1;

    sequencer.acceptMember({ roomId: 'r', userId: 'u2', username: 'u2', kind: 'joined', change: 2 });
    sequencer.acceptMessage({ ...m1, id: 'id-late', seq: 3, clientMsgId: 'c-late', change: 5 });
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));

    expect(errors).to.deep.equal([]);
    expect(seen).to.deep.equal(['j2', 'l3', 'm4', 'm5', 'l6']);
    expect(sequencer.lastChange).to.equal(6);
    expect(sequencer.behindByChange).to.equal(false);
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
