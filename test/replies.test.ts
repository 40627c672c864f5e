// Issue 14, replies and threads: `message:send` with `replyToSeq`, the
// parent's replyCount / lastReplyAt moved in the group commit as a change of
// the room (its own change number, published as message:updated), and
// `GET /api/rooms/:id/messages/:seq/replies` paging a thread as history does.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { MessageStore, type PendingMessage } from '../db/stores/message-store.js';
import { RoomStore } from '../db/stores/room-store.js';
import { UserStore } from '../db/stores/user-store.js';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, ChangesPage, HistoryPage, JoinResult, Message, MessageResult } from '../server/protocol.js';
import { useRedisCluster } from './support/cluster.js';
import { closeClientsAfterEach, signedUpClient } from './support/sdk.js';
import { environment } from './support/environment.js';
import { connect, createRoom, http, membersInRoom, ok, registerAdmin, registerUser, request, startNode, uniqueName, useNode, waitFor, type ChatClient } from './support/util.js';

const send = async (socket: ChatClient, roomId: string, content: string, replyToSeq?: number) =>
  (await ok<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID(), ...(replyToSeq === undefined ? {} : { replyToSeq }) })).message;
const trySend = (socket: ChatClient, roomId: string, replyToSeq: unknown) =>
  request<MessageResult>(socket, 'message:send', { roomId, content: 'a reply', clientMsgId: randomUUID(), replyToSeq });
const repliesOf = (app: RoomcastApp | string, token: string, roomId: string, seq: number | string, query = '') =>
  http<HistoryPage>(app, 'GET', `/api/rooms/${roomId}/messages/${seq}/replies${query}`, { token });
const changesOf = async (app: RoomcastApp | string, token: string, roomId: string, after = 0) =>
  (await http<ChangesPage>(app, 'GET', `/api/rooms/${roomId}/changes?after=${after}&limit=500`, { token })).body;
const historyOf = async (app: RoomcastApp | string, token: string, roomId: string) =>
  (await http<HistoryPage>(app, 'GET', `/api/rooms/${roomId}/messages?afterSeq=0&limit=200`, { token })).body.messages;
const codeOf = (ack: Ack<object>) => (ack.ok ? 'ok' : ack.error.code);

/** Every message:new / message:updated a socket receives, in arrival order. */
const watch = (socket: ChatClient) => {
  const seen: { kind: 'new' | 'updated'; message: Message }[] = [];
  socket.on('message:new', (message: Message) => seen.push({ kind: 'new', message }));
  socket.on('message:updated', (message: Message) => seen.push({ kind: 'updated', message }));
  return seen;
};

describe('replies on one node', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0', EDIT_RATE_LIMIT: '0' });

  it('when a message replies to another, then it carries replyToSeq, and the parent gets replyCount, lastReplyAt and the next change number, sent to the room as message:updated after the reply', async () => {
    const { room, users: [alice], sockets: [author, watcher] } = await membersInRoom([node.app, node.app]);
    const seen = watch(watcher);
    const parent = await send(author, room.id, 'a question');

    const reply = await send(author, room.id, 'an answer', parent.seq);

    expect(parent).to.include({ replyToSeq: null, replyCount: 0, lastReplyAt: null, change: 1 });
    expect(reply).to.include({ replyToSeq: parent.seq, replyCount: 0, lastReplyAt: null, seq: 2, change: 2 });
    await waitFor(() => seen.length === 3, 5_000, 'the parent, the reply and the parent update');
    expect(seen.map(({ kind, message }) => [kind, message.seq, message.change])).to.deep.equal([['new', 1, 1], ['new', 2, 2], ['updated', 1, 3]]);
    expect(seen[2]!.message).to.include({ replyCount: 1, lastReplyAt: reply.createdAt, content: 'a question', editedAt: null });
    // Catch-up converges on the same state: the parent's row is in the log at its new number.
    const log = await changesOf(node.app, alice.accessToken, room.id);
    expect(log.lastChange).to.equal(3);
    expect(log.changes.map((m) => [m.seq, m.change, m.replyCount])).to.deep.equal([[2, 2, 0], [1, 3, 1]]);
    expect(log.changes[1]).to.deep.equal(seen[2]!.message);
    // The sender gets the parent's update too (only its own message:new is skipped).
    const senderSeen = watch(author);
    await send(watcher, room.id, 'another answer', parent.seq);
    await waitFor(() => senderSeen.some(({ kind }) => kind === 'updated'), 5_000, 'the sender to hear the parent update');
    expect(senderSeen.find(({ kind }) => kind === 'updated')!.message).to.include({ seq: 1, replyCount: 2, change: 5 });
  });

  it('when a thread is paged, then it answers only that parent’s replies, oldest first, with history’s afterSeq / beforeSeq / limit / hasMore rules', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    const parent = await send(socket, room.id, 'thread root');
    const other = await send(socket, room.id, 'another root');
    const replies: Message[] = [];
    for (let i = 0; i < 7; i++) {
      replies.push(await send(socket, room.id, `reply ${i}`, parent.seq));
      await send(socket, room.id, `noise ${i}`, i % 2 ? other.seq : undefined);
    }
    const seqs = (page: HistoryPage) => page.messages.map((m) => m.seq);
    const replySeqs = replies.map((m) => m.seq);

    const latest = (await repliesOf(node.app, alice.accessToken, room.id, parent.seq, '?limit=3')).body;
    const older = (await repliesOf(node.app, alice.accessToken, room.id, parent.seq, `?beforeSeq=${latest.messages[0]!.seq}&limit=3`)).body;
    const oldest = (await repliesOf(node.app, alice.accessToken, room.id, parent.seq, `?beforeSeq=${older.messages[0]!.seq}&limit=3`)).body;
    const forward = (await repliesOf(node.app, alice.accessToken, room.id, parent.seq, `?afterSeq=${replySeqs[1]}&limit=4`)).body;
    const rest = (await repliesOf(node.app, alice.accessToken, room.id, parent.seq, `?afterSeq=${forward.messages[3]!.seq}&limit=4`)).body;
    const all = (await repliesOf(node.app, alice.accessToken, room.id, parent.seq)).body;

    expect([seqs(latest), latest.hasMore]).to.deep.equal([replySeqs.slice(4), true]);
    expect([seqs(older), older.hasMore]).to.deep.equal([replySeqs.slice(1, 4), true]);
    expect([seqs(oldest), oldest.hasMore]).to.deep.equal([replySeqs.slice(0, 1), false]);
    expect([seqs(forward), forward.hasMore]).to.deep.equal([replySeqs.slice(2, 6), true]);
    expect([seqs(rest), rest.hasMore]).to.deep.equal([replySeqs.slice(6), false]);
    expect(all.messages).to.deep.equal((await historyOf(node.app, alice.accessToken, room.id)).filter((m) => m.replyToSeq === parent.seq));
    expect((await repliesOf(node.app, alice.accessToken, room.id, other.seq)).body.messages.map((m) => m.content)).to.deep.equal(['noise 1', 'noise 3', 'noise 5']);
    // A message with no replies: an empty thread (with the room's first kept seq, as every history page: issue 19).
    expect((await repliesOf(node.app, alice.accessToken, room.id, replies[0]!.seq)).body).to.deep.equal({ messages: [], hasMore: false, oldestSeq: 1 });
  });

  it('when a thread is asked for badly, then the answer is validation_failed or not_found as for history — never internal', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    const parent = await send(socket, room.id, 'root');
    const stranger = await registerUser(node.app);
    const secret = await createRoom(node.app, (await registerAdmin(node.app)).accessToken, { visibility: 'private' });

    const status = async (token: string, roomId: string, seq: number | string, query = '') => (await repliesOf(node.app, token, roomId, seq, query)).status;

    expect(await status(alice.accessToken, room.id, parent.seq, `?afterSeq=0&beforeSeq=9`)).to.equal(400);
    expect(await status(alice.accessToken, room.id, parent.seq, '?limit=201')).to.equal(400);
    for (const seq of ['0', '-1', '1.5', 'x', '2147483648']) expect(await status(alice.accessToken, room.id, seq), seq).to.equal(400);
    expect(await status(alice.accessToken, room.id, parent.seq + 1)).to.equal(404);
    expect(await status(alice.accessToken, randomUUID(), 1)).to.equal(404);
    expect(await status(stranger.accessToken, secret.id, 1)).to.equal(404);
  });

  it('when a reply names a deleted, missing or other room’s message, then it is refused not_found and nothing is stored; a malformed replyToSeq is validation_failed', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    const elsewhere = await createRoom(node.app, alice.accessToken);
    await ok(socket, 'room:join', { roomId: elsewhere.id });
    await send(socket, elsewhere.id, 'e1');
    await send(socket, elsewhere.id, 'e2');
    await send(socket, elsewhere.id, 'e3');
    const kept = await send(socket, room.id, 'kept');
    const gone = await send(socket, room.id, 'gone');
    await ok(socket, 'message:delete', { messageId: gone.id });
    const before = await changesOf(node.app, alice.accessToken, room.id);

    const refused = {
      deleted: await trySend(socket, room.id, gone.seq),
      missing: await trySend(socket, room.id, 99),
      otherRoom: await trySend(socket, room.id, 3), // seq 3 exists only in `elsewhere`
    };
    const malformed = await Promise.all([0, -1, 1.5, '1', null, 2 ** 31].map((seq) => trySend(socket, room.id, seq)));

    for (const [why, ack] of Object.entries(refused)) {
      expect(codeOf(ack), why).to.equal('not_found');
      expect(ack.ok ? '' : ack.error.message, why).to.match(/replied to/);
    }
    expect(malformed.map(codeOf)).to.deep.equal(Array(6).fill('validation_failed'));
    const after = await changesOf(node.app, alice.accessToken, room.id);
    expect(after.lastChange).to.equal(before.lastChange);
    expect((await historyOf(node.app, alice.accessToken, room.id)).map((m) => m.seq)).to.deep.equal([1, 2]);
    // The room still takes replies to a live message.
    expect((await send(socket, room.id, 'ok', kept.seq)).seq).to.equal(3);
  });

  it('when a socket comes back with room:join afterChange, then the catch-up replays the replies it missed and the parent with its final replyCount', async () => {
    const { room, users: [, bob], sockets: [author, away] } = await membersInRoom([node.app, node.app]);
    const parent = await send(author, room.id, 'root');
    const { lastChange } = await ok<JoinResult>(away, 'room:join', { roomId: room.id });
    away.disconnect();

    const missed = [await send(author, room.id, 'r1', parent.seq), await send(author, room.id, 'r2', parent.seq)];
    const back = await connect(node.app, { token: bob.accessToken });
    const joined = await ok<JoinResult>(back, 'room:join', { roomId: room.id, afterChange: lastChange });

    expect(joined.changes!.map((m) => [m.seq, m.replyToSeq, m.replyCount])).to.deep.equal([[2, 1, 0], [3, 1, 0], [1, null, 2]]);
    const replayedParent = joined.changes!.find((m) => m.seq === parent.seq)!;
    expect(replayedParent.lastReplyAt).to.equal(missed[1]!.createdAt);
    expect(joined.lastChange).to.equal(replayedParent.change);
  });
});

describe('replies across nodes', () => {
  const { node } = useRedisCluster('replies across nodes');

  it('when replies to one parent race from two nodes, then its replyCount counts every one, each node sees its updates in change order and converges on the stored state', async () => {
    const [a, b] = await Promise.all([node('a'), node('b', { HISTORY_RATE_LIMIT: '0' })]);
    const { room, users: [alice], sockets: [onA, onB, watcherA, watcherB] } = await membersInRoom([a, b, a, b]);
    const seenA = watch(watcherA);
    const seenB = watch(watcherB);
    const parent = await send(onA, room.id, 'the parent');
    const second = await send(onB, room.id, 'another parent');
    const perNode = 15;

    // Replies to both parents and plain messages at once, from both nodes: batches mix all three.
    const sent = await Promise.all(
      Array.from({ length: perNode * 2 }, (_, i) => send(i % 2 ? onA : onB, room.id, `r${i}`, i % 5 === 4 ? undefined : i % 5 === 3 ? second.seq : parent.seq)),
    );

    const toParent = sent.filter((m) => m.replyToSeq === parent.seq).length;
    const toSecond = sent.filter((m) => m.replyToSeq === second.seq).length;
    const stored = await historyOf(b, alice.accessToken, room.id);
    const storedParent = stored.find((m) => m.seq === parent.seq)!;
    expect(storedParent.replyCount).to.equal(toParent);
    expect(stored.find((m) => m.seq === second.seq)!.replyCount).to.equal(toSecond);
    expect(storedParent.lastReplyAt).to.equal(sent.filter((m) => m.replyToSeq === parent.seq).map((m) => m.createdAt).sort().at(-1));
    const log = await changesOf(b, alice.accessToken, room.id);
    expect(log.changes.map((m) => m.change)).to.deep.equal([...log.changes.map((m) => m.change)].sort((x, y) => x - y));

    for (const [name, seen] of [['node a', seenA], ['node b', seenB]] as const) {
      await waitFor(() => seen.some(({ message }) => message.change === storedParent.change), 10_000, `${name} to see the parent's last update`);
      await waitFor(() => seen.filter(({ kind }) => kind === 'new').length === sent.length + 2, 10_000, `${name} to see every reply`);
      const changes = seen.map(({ message }) => message.change);
      expect(changes, `${name}: strictly increasing change numbers`).to.deep.equal([...new Set(changes)].sort((x, y) => x - y));
      const counts = seen.filter(({ message }) => message.id === parent.id).map(({ message }) => message.replyCount);
      expect(counts, `${name}: the parent's count only grows`).to.deep.equal([...counts].sort((x, y) => x - y));
      expect(seen.filter(({ message }) => message.id === parent.id).at(-1)!.message, name).to.deep.equal(storedParent);
    }
  });
});

describe('MessageStore.appendBatch with replies', () => {
  const stores = () => {
    const { knex } = environment.get().database;
    return { messages: new MessageStore(knex), rooms: new RoomStore(knex), users: new UserStore(knex) };
  };

  it('when one batch holds plain sends and several replies to two parents, then the messages take the next numbers and each parent one number after them, counted once per reply', async () => {
    const { messages, rooms, users } = stores();
    const name = uniqueName('thread');
    const user = await users.create({ username: name, email: `${name}@example.test`, passwordHash: 'x' });
    const room = await rooms.create({ name: 'threads', visibility: 'public', readOnly: false, createdBy: user.id });
    const pending = (content: string, replyToSeq?: number): PendingMessage => ({
      roomId: room.id, userId: user.id, username: user.username, role: 'member', content, clientMsgId: randomUUID(), ...(replyToSeq === undefined ? {} : { replyToSeq }),
    });
    await messages.appendBatch([pending('p1'), pending('p2')]);

    const outcomes = await messages.appendBatch([pending('to 2', 2), pending('plain'), pending('to 1', 1), pending('to 2 again', 2), pending('to nothing', 40)]);

    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : [o.message.seq, o.message.change, o.message.replyToSeq]))).to.deep.equal([
      [3, 3, 2], [4, 4, null], [5, 5, 1], [6, 6, 2], 'parent_not_found',
    ]);
    const parentOf = (i: number) => (outcomes[i]!.status === 'stored' ? (outcomes[i] as { parent?: Message }).parent : undefined);
    expect([parentOf(0), parentOf(2), parentOf(3)].map((p) => p && [p.seq, p.change, p.replyCount])).to.deep.equal([[2, 8, 2], [1, 7, 1], [2, 8, 2]]);
    expect(parentOf(1)).to.equal(undefined);
    const page = await messages.changes(room.id, { after: 0, limit: 50 });
    expect(page!.lastChange).to.equal(8);
    expect(page!.changes.map((m) => [m.seq, m.change])).to.deep.equal([[3, 3], [4, 4], [5, 5], [6, 6], [1, 7], [2, 8]]);
  });
});

describe('client SDK: threads', () => {
  closeClientsAfterEach();

  it('when a thread handle is opened, then it pages older replies, gets live ones in seq order and the parent’s count, and after a reconnect replays the replies it missed', async () => {
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' });
    const { client: sender } = await signedUpClient(app);
    // The reader comes back slowly, so the replies below are sent while it is away.
    const { client: reader } = await signedUpClient(app, { reconnect: { minDelayMs: 1_000, maxDelayMs: 1_500 } });
    const created = await sender.rooms.create({ name: uniqueName('room') });
    const out = await sender.join(created.id);
    const inbox = await reader.join(created.id);
    const parent = await out.send('the question');
    const early = [await out.send('e1', { replyToSeq: parent.seq }), await out.send('e2', { replyToSeq: parent.seq }), await out.send('e3', { replyToSeq: parent.seq })];

    const thread = await inbox.thread(parent.seq, { limit: 2 });
    const live: Message[] = [];
    thread.on('reply', (m) => live.push(m));
    expect([thread.replies.map((m) => m.content), thread.hasOlder, thread.parent?.content]).to.deep.equal([['e2', 'e3'], true, 'the question']);
    expect((await thread.loadOlder(2)).map((m) => m.content)).to.deep.equal(['e1']);
    expect(thread.hasOlder).to.equal(false);
    await thread.send('l1');
    await out.send('plain');
    await out.send('l2', { replyToSeq: parent.seq });
    await waitFor(() => live.length === 2 && thread.parent?.replyCount === 5, 5_000, 'two live replies and the count');

    // Recorded as events, not polled: a stalled test process could miss the whole reconnecting window.
    const readerStates: string[] = [];
    reader.on('state', ({ state }) => readerStates.push(state));
    app.io.of('/chat').in(`user:${reader.user!.id}`).disconnectSockets();
    await waitFor(() => readerStates.includes('reconnecting'), 5_000, 'the reader to be away');
    const missed = [await out.send('m1', { replyToSeq: parent.seq }), await out.send('m2', { replyToSeq: early[0]!.seq }), await out.send('m3', { replyToSeq: parent.seq })];
    await waitFor(() => thread.parent?.replyCount === 7 && live.length === 4, 10_000, 'the replay after the reconnect');

    const stored = (await http<HistoryPage>(app, 'GET', `/api/rooms/${created.id}/messages/${parent.seq}/replies`, { token: (await registerUser(app)).accessToken })).body.messages;
    expect(thread.replies).to.deep.equal(stored);
    expect(live.map((m) => m.content)).to.deep.equal(['l1', 'l2', 'm1', 'm3']);
    expect(missed[1]!.replyToSeq).to.equal(early[0]!.seq);
    expect(thread.parent).to.deep.equal((await inbox.history({ afterSeq: parent.seq - 1, limit: 1 })).messages[0]);
    thread.close();
  });
});
