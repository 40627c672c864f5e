// Issue 13, the server side of the numbered change log: every change of a
// room (a message stored, edited, deleted) takes the room's next number,
// catch-up reads the current state of what changed after N (REST,
// room:changes, room:join afterChange), and every node emits a room's
// changes in change order.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, ChangesPage, HistoryPage, JoinResult, Message, MessageDeletedEvent, MessageResult } from '../server/protocol.js';
import { useRedisCluster } from './support/cluster.js';
import { connect, createRoom, http, membersInRoom, ok, registerAdmin, registerUser, request, useNode, waitFor, type ChatClient } from './support/util.js';

const send = async (socket: ChatClient, roomId: string, content: string, clientMsgId: string = randomUUID()) =>
  (await ok<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId })).message;
const edit = async (socket: ChatClient, messageId: string, content: string) => (await ok<MessageResult>(socket, 'message:edit', { messageId, content })).message;
const remove = (socket: ChatClient, messageId: string) => ok(socket, 'message:delete', { messageId });
const changesOf = (app: RoomcastApp, token: string, roomId: string, query = '') => http<ChangesPage>(app, 'GET', `/api/rooms/${roomId}/changes${query}`, { token });
const historyOf = async (app: RoomcastApp, token: string, roomId: string) =>
  (await http<HistoryPage>(app, 'GET', `/api/rooms/${roomId}/messages?afterSeq=0&limit=200`, { token })).body.messages;
const errorCode = (ack: Ack<object>) => (ack.ok ? 'ok' : ack.error.code);

describe('change log on one node', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0', EDIT_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' });

  it('when messages are sent, edited and deleted, then each change takes the room’s next number with no gap, and the log answers each message’s current state once', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    const [m1, m2, m3] = [await send(socket, room.id, 'one'), await send(socket, room.id, 'two'), await send(socket, room.id, 'three')];
    const e1 = await edit(socket, m1.id, 'one, edited');
    const e2 = await edit(socket, m1.id, 'one, final');
    await remove(socket, m2.id);

    const page = await changesOf(node.app, alice.accessToken, room.id, '?after=0');

    expect([m1, m2, m3, e1, e2].map((m) => m.change)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(page.status).to.equal(200);
    expect(page.body.lastChange).to.equal(6);
    expect(page.body.hasMore).to.equal(false);
    // Edited twice: one entry, the final text; deleted: the tombstone, as history shows it.
    const history = await historyOf(node.app, alice.accessToken, room.id);
    const byId = new Map(history.map((m) => [m.id, m]));
    expect(page.body.changes.map((m) => [m.id, m.change])).to.deep.equal([[m3.id, 3], [m1.id, 5], [m2.id, 6]]);
    expect(page.body.changes).to.deep.equal([byId.get(m3.id), byId.get(m1.id), byId.get(m2.id)]);
    expect(page.body.changes[1]).to.include({ content: 'one, final', seq: 1 });
    expect(page.body.changes[2]).to.include({ content: '', deleted: true, seq: 2 });
    // seq keeps its meaning: history pages by it, 1..3.
    expect(history.map((m) => m.seq)).to.deep.equal([1, 2, 3]);
  });

  it('when a send is repeated with its clientMsgId after an edit, then the stored message answers with its current change and no number is spent', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    const clientMsgId = randomUUID();
    const sent = await send(socket, room.id, 'draft', clientMsgId);
    const edited = await edit(socket, sent.id, 'final');

    const again = await send(socket, room.id, 'draft', clientMsgId);

    expect(again).to.deep.equal(edited);
    expect(again.change).to.equal(2);
    expect((await changesOf(node.app, alice.accessToken, room.id)).body.lastChange).to.equal(2);
  });

  it('when sends, edits and deletes run at once in two rooms, then each room’s numbers are exactly 1..N and every change-log row is the message’s latest', async () => {
    const { room, users: [alice], sockets: [a, b] } = await membersInRoom([node.app, node.app]);
    const other = await createRoom(node.app, alice.accessToken);
    await ok(a, 'room:join', { roomId: other.id });
    const first = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 ? a : b, i % 3 ? room.id : other.id, `m${i}`)));
    const mine = first.filter((m) => m.userId === alice.user.id);

    const changed = await Promise.all([
      ...mine.slice(0, 4).map((m) => edit(a, m.id, `${m.content}!`)),
      ...mine.slice(4, 7).map((m) => remove(a, m.id).then(() => null)),
      ...Array.from({ length: 10 }, (_, i) => send(i % 2 ? a : b, i % 2 ? room.id : other.id, `n${i}`)),
    ]);

    for (const roomId of [room.id, other.id]) {
      const page = await changesOf(node.app, alice.accessToken, roomId, '?after=0&limit=500');
      const history = await historyOf(node.app, alice.accessToken, roomId);
      const created = [...first, ...changed].filter((m): m is Message => m !== null && m.roomId === roomId && m.editedAt === null).length;
      const edits = changed.filter((m) => m !== null && m.roomId === roomId && m.editedAt !== null).length;
      const deletes = mine.slice(4, 7).filter((m) => m.roomId === roomId).length;
      expect(page.body.lastChange, roomId).to.equal(created + edits + deletes);
      // One row per message, by change, each the message as history has it now.
      expect(page.body.changes.map((m) => m.change)).to.deep.equal([...page.body.changes.map((m) => m.change)].sort((x, y) => x - y));
      expect([...page.body.changes].sort((x, y) => x.seq - y.seq)).to.deep.equal(history);
      // Numbers no row carries any more are exactly the superseded ones: as many as edits and deletes.
      expect(page.body.lastChange - page.body.changes.length).to.equal(edits + deletes);
    }
  });

  it('when the log is read a page at a time, then hasMore says more follow and after = the last row’s change continues it, by REST and by room:changes alike', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    for (let i = 1; i <= 5; i++) await send(socket, room.id, `m${i}`);

    const first = await changesOf(node.app, alice.accessToken, room.id, '?after=0&limit=2');
    const second = await ok<ChangesPage>(socket, 'room:changes', { roomId: room.id, after: first.body.changes.at(-1)!.change, limit: 2 });
    const last = await changesOf(node.app, alice.accessToken, room.id, `?after=${second.changes.at(-1)!.change}&limit=2`);
    const beyond = await ok<ChangesPage>(socket, 'room:changes', { roomId: room.id, after: 99 });

    expect([first.body.changes.map((m) => m.change), first.body.hasMore, first.body.lastChange]).to.deep.equal([[1, 2], true, 5]);
    expect([second.changes.map((m) => m.change), second.hasMore, second.lastChange]).to.deep.equal([[3, 4], true, 5]);
    expect([last.body.changes.map((m) => m.change), last.body.hasMore]).to.deep.equal([[5], false]);
    // A client from a restored backup learns where the room is.
    expect(beyond).to.deep.equal({ ok: true, changes: [], hasMore: false, lastChange: 5 });
  });

  it('when a socket joins with afterChange, then the ack carries lastChange and the first page of changes after it; without, only lastChange', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    const m1 = await send(socket, room.id, 'one');
    await send(socket, room.id, 'two');
    await edit(socket, m1.id, 'one, edited');
    const later = await connect(node.app, { token: alice.accessToken });

    const plain = await ok<JoinResult>(later, 'room:join', { roomId: room.id });
    const caughtUp = await ok<JoinResult>(later, 'room:join', { roomId: room.id, afterChange: 1 });
    const current = await ok<JoinResult>(later, 'room:join', { roomId: room.id, afterChange: 3 });

    expect(plain.lastChange).to.equal(3);
    expect(plain).to.not.have.any.keys('changes', 'hasMore');
    expect([caughtUp.lastChange, caughtUp.hasMore, caughtUp.changes!.map((m) => [m.seq, m.change, m.content])]).to.deep.equal([
      3,
      false,
      [[2, 2, 'two'], [1, 3, 'one, edited']],
    ]);
    expect([current.changes, current.hasMore]).to.deep.equal([[], false]);
  });

  it('when the numbers or the room are bad, then the answer is validation_failed, not_found or forbidden as for history — never internal', async () => {
    const { room, users: [alice], sockets: [socket] } = await membersInRoom([node.app]);
    const admin = await registerAdmin(node.app);
    const secret = await createRoom(node.app, admin.accessToken, { visibility: 'private' });

    for (const query of ['?after=-1', '?after=1.5', '?after=abc', '?after=1e400', '?limit=0', '?limit=501', '?limit=2.5']) {
      const answer = await changesOf(node.app, alice.accessToken, room.id, query);
      expect([query, answer.status, (answer.body as unknown as { error: { code: string } }).error?.code]).to.deep.equal([query, 400, 'validation_failed']);
    }
    const unknown = await changesOf(node.app, alice.accessToken, randomUUID());
    const hidden = await changesOf(node.app, alice.accessToken, secret.id);
    const hiddenHistory = await http(node.app, 'GET', `/api/rooms/${secret.id}/messages`, { token: alice.accessToken });
    expect([unknown.status, hidden.status]).to.deep.equal([404, hiddenHistory.status]);
    expect((hidden.body as unknown as { error: { code: string } }).error.code).to.equal('not_found');
    expect((await http(node.app, 'GET', `/api/rooms/${room.id}/changes`)).status).to.equal(401);

    const socketAnswers = await Promise.all([
      request(socket, 'room:changes', { roomId: room.id, after: -1 }),
      request(socket, 'room:changes', { roomId: room.id, after: 0.5 }),
      request(socket, 'room:changes', { roomId: room.id, after: '3' }),
      request(socket, 'room:changes', { roomId: room.id }),
      request(socket, 'room:changes', { roomId: room.id, after: 0, limit: 501 }),
      request(socket, 'room:changes', { roomId: randomUUID(), after: 0 }),
      request(socket, 'room:changes', { roomId: secret.id, after: 0 }),
      request(socket, 'room:join', { roomId: room.id, afterChange: -1 }),
      request(socket, 'room:join', { roomId: room.id, afterChange: 1.5 }),
      request(socket, 'room:join', { roomId: secret.id, afterChange: 0 }),
    ]);
    expect(socketAnswers.map(errorCode)).to.deep.equal([
      ...Array<string>(5).fill('validation_failed'),
      'not_found',
      'not_found',
      'validation_failed',
      'validation_failed',
      'not_found',
    ]);
  });
});

describe('change log across nodes', () => {
  const { node } = useRedisCluster('change log across nodes');

  /** Every change event a socket receives, in arrival order, as [kind, change, messageId]. */
  const watch = (socket: ChatClient) => {
    const seen: [string, number, string][] = [];
    socket.on('message:new', (m: Message) => seen.push(['new', m.change, m.id]));
    socket.on('message:updated', (m: Message) => seen.push(['updated', m.change, m.id]));
    socket.on('message:deleted', (e: MessageDeletedEvent) => seen.push(['deleted', e.change, e.id]));
    return seen;
  };

  it('when a message is sent on one node and edited then deleted on another, then sockets on both nodes get new, updated, deleted in change order', async () => {
    const [a, b] = await Promise.all([node('a'), node('b', { EDIT_RATE_LIMIT: '0' })]);
    const { room, users: [alice], sockets: [author, watcherA, watcherB] } = await membersInRoom([a, a, b]);
    const moderator = await connect(b, { token: (await registerAdmin(b)).accessToken });
    const seenA = watch(watcherA);
    const seenB = watch(watcherB);
    const rounds = 8;

    // Each round: a send on A, then at once an edit and a delete of it on B; rounds overlap.
    const messages = await Promise.all(
      Array.from({ length: rounds }, async (_, i) => {
        const sent = await send(author, room.id, `m${i}`);
        await edit(moderator, sent.id, `m${i} (moderated)`);
        await remove(moderator, sent.id);
        return sent;
      }),
    );

    const total = rounds * 3;
    const history = await historyOf(a, alice.accessToken, room.id);
    expect(history.every((m) => m.deleted)).to.equal(true);
    for (const [name, seen] of [['node a', seenA], ['node b', seenB]] as const) {
      await waitFor(() => seen.some(([kind, change]) => kind === 'deleted' && change === total), 10_000, `${name} to see the last deletion`);
      const changes = seen.map(([, change]) => change);
      expect(changes, `${name}: strictly increasing change numbers`).to.deep.equal([...new Set(changes)].sort((x, y) => x - y));
      for (const message of messages) {
        const kinds = seen.filter(([, , id]) => id === message.id).map(([kind]) => kind);
        // Never out of order; a number superseded before a gap fill may be skipped, the deletion never is.
        expect(['new,updated,deleted', 'updated,deleted', 'deleted'], `${name}: ${message.id}`).to.include(kinds.join(','));
      }
      // Without a gap fill (the usual case) every change arrives.
      expect(changes.length, name).to.be.at.most(total);
    }
    expect((await changesOf(b, alice.accessToken, room.id)).body.lastChange).to.equal(total);
  });

  it('when a socket joins on another node with afterChange, then it gets the changes made on the first node, and later ones live after lastChange', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const { room, users: [alice], sockets: [author] } = await membersInRoom([a]);
    const m1 = await send(author, room.id, 'one');
    await edit(author, m1.id, 'one, edited');
    const late = await connect(b, { token: (await registerUser(b)).accessToken });
    const live = watch(late);

    const joined = await ok<JoinResult>(late, 'room:join', { roomId: room.id, afterChange: 0 });
    await remove(author, m1.id);

    expect([joined.lastChange, joined.changes!.map((m) => [m.change, m.content])]).to.deep.equal([2, [[2, 'one, edited']]]);
    await waitFor(() => live.length === 1, 5_000, 'the deletion to reach node b');
    expect(live).to.deep.equal([['deleted', 3, m1.id]]);
    expect((await changesOf(b, alice.accessToken, room.id, '?after=2')).body.changes.map((m) => [m.change, m.deleted])).to.deep.equal([[3, true]]);
  });
});
