// Issue 14, reactions: message:react / message:unreact judged by
// server/messages/message-rules.ts, each one that changes something a
// numbered change of its message, delivered as message:reaction in change
// order on every node, and replayed by catch-up with the caller's `me`.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, ChangesPage, HistoryPage, JoinResult, Message, MessageReactionEvent, MessageResult } from '../server/protocol.js';
import type { ReactionUpdate } from '../client-sdk/src/index.js';
import { adminSocket } from './support/admin.js';
import { closeClientsAfterEach, signedUpClient } from './support/sdk.js';
import { useRedisCluster } from './support/cluster.js';
import { collect, connect, createRoom, http, membersInRoom, ok, registerAdmin, registerUser, request, sleep, stopNode, uniqueName, useNode, waitFor, type ChatClient } from './support/util.js';

const send = async (socket: ChatClient, roomId: string, content = 'hello') =>
  (await ok<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() })).message;
const react = (socket: ChatClient, messageId: string, emoji: string) => request<MessageResult>(socket, 'message:react', { messageId, emoji });
const unreact = (socket: ChatClient, messageId: string, emoji: string) => request<MessageResult>(socket, 'message:unreact', { messageId, emoji });
const reactOk = async (socket: ChatClient, messageId: string, emoji: string) => (await ok<MessageResult>(socket, 'message:react', { messageId, emoji })).message;
const errorOf = (ack: Ack<object>) => (ack.ok ? 'ok' : `${ack.error.code}: ${ack.error.message}`);
const codeOf = (ack: Ack<object>) => (ack.ok ? 'ok' : ack.error.code);
const historyOf = async (app: RoomcastApp, token: string, roomId: string) =>
  (await http<HistoryPage>(app, 'GET', `/api/rooms/${roomId}/messages?afterSeq=0`, { token })).body.messages;
const changesOf = async (app: RoomcastApp, token: string, roomId: string, after: number) =>
  (await http<ChangesPage>(app, 'GET', `/api/rooms/${roomId}/changes?after=${after}`, { token })).body;

describe('reactions on one node', () => {
  const node = useNode({ REACTION_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0', EDIT_RATE_LIMIT: '0' });

  it('when two users react and one takes it back, then acks, history and the live events carry the counts, each caller’s `me`, and one change number per change', async () => {
    const { room, users: [alice, bob], sockets: [a, b, watcher] } = await membersInRoom([node.app, node.app, node.app]);
    const message = await send(a, room.id);
    const events = collect<MessageReactionEvent>(watcher, 'message:reaction');

    const first = await reactOk(a, message.id, '👍');
    const second = await reactOk(b, message.id, '👍');
    const third = await reactOk(b, message.id, '🇫🇷');
    const removed = (await ok<MessageResult>(b, 'message:unreact', { messageId: message.id, emoji: '👍' })).message;

    expect(first.reactions).to.deep.equal([{ emoji: '👍', count: 1, me: true }]);
    expect(second.reactions).to.deep.equal([{ emoji: '👍', count: 2, me: true }]);
    expect(third.reactions).to.deep.equal([{ emoji: '👍', count: 2, me: true }, { emoji: '🇫🇷', count: 1, me: true }]);
    expect(removed.reactions).to.deep.equal([{ emoji: '👍', count: 1, me: false }, { emoji: '🇫🇷', count: 1, me: true }]);
    expect([first, second, third, removed].map((m) => m.change)).to.deep.equal([2, 3, 4, 5]);
    const [forAlice] = await historyOf(node.app, alice.accessToken, room.id);
    const [forBob] = await historyOf(node.app, bob.accessToken, room.id);
    expect(forAlice!.reactions).to.deep.equal([{ emoji: '👍', count: 1, me: true }, { emoji: '🇫🇷', count: 1, me: false }]);
    expect(forBob!.reactions).to.deep.equal(removed.reactions);
    expect(forBob!.change).to.equal(5);
    await waitFor(() => events.length === 4, 5_000, 'four reaction events');
    expect(events.map((e) => [e.change, e.emoji, e.userId, e.added])).to.deep.equal([
      [2, '👍', alice.user.id, true],
      [3, '👍', bob.user.id, true],
      [4, '🇫🇷', bob.user.id, true],
      [5, '👍', bob.user.id, false],
    ]);
    expect(events[3]).to.deep.include({ roomId: room.id, messageId: message.id, seq: message.seq, reactions: [{ emoji: '👍', count: 1 }, { emoji: '🇫🇷', count: 1 }] });
  });

  it('when a user reacts twice with one emoji or removes one they never added, then the ack answers the message unchanged and no change number or event is spent', async () => {
    const { room, sockets: [a, watcher] } = await membersInRoom([node.app, node.app]);
    const message = await send(a, room.id);
    const events = collect<MessageReactionEvent>(watcher, 'message:reaction');
    const once = await reactOk(a, message.id, ':party_parrot:');
    await waitFor(() => events.length === 1, 5_000, 'the first reaction event');

    const twice = await reactOk(a, message.id, ':party_parrot:');
    const never = await ok<MessageResult>(a, 'message:unreact', { messageId: message.id, emoji: '🎉' });

    expect(twice).to.deep.equal(once);
    expect(never.message).to.deep.equal(once);
    const { lastChange } = await ok<JoinResult>(a, 'room:join', { roomId: room.id });
    expect(lastChange).to.equal(once.change);
    await sleep(200);
    expect(events.map((e) => e.change)).to.deep.equal([once.change]);
  });

  it('when the emoji is not one emoji grapheme or a :name:, or the message id is bad, then validation_failed; an unknown message is not_found', async () => {
    const { room, sockets: [a] } = await membersInRoom([node.app]);
    const message = await send(a, room.id);

    const refused = await Promise.all(['a', '1', '👍👍', ' 👍', '🇫', ':Upper:', '::', '', 'x'.repeat(65), '👍\u0000'].map((emoji) => react(a, message.id, emoji)));
    const accepted = await Promise.all(['👨‍👩‍👧‍👦', '1️⃣', '❤️', '👍🏽', ':+1:'].map((emoji) => react(a, message.id, emoji)));

    expect(refused.map(codeOf)).to.deep.equal(Array(10).fill('validation_failed'));
    expect(accepted.map(codeOf)).to.deep.equal(Array(5).fill('ok'));
    expect(codeOf(await react(a, 'not-an-id', '👍'))).to.equal('validation_failed');
    expect(codeOf(await react(a, '999999999999', '👍'))).to.equal('not_found');
    expect(codeOf(await request(a, 'message:react', { messageId: message.id }))).to.equal('validation_failed');
  });

  it('when the message is deleted or the room archived, then reacting is refused with a clear code; a read-only room takes reactions', async () => {
    const admin = await registerAdmin(node.app);
    const { room, sockets: [a] } = await membersInRoom([node.app]);
    const gone = await send(a, room.id, 'gone');
    const kept = await send(a, room.id, 'kept');
    await reactOk(a, gone.id, '👍');
    await ok(a, 'message:delete', { messageId: gone.id });
    const patch = async (body: Record<string, boolean>) => expect((await http(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body })).status).to.equal(200);

    expect(errorOf(await react(a, gone.id, '🎉'))).to.equal('not_found: message was deleted');
    expect(errorOf(await unreact(a, gone.id, '👍'))).to.equal('not_found: message was deleted');
    await patch({ readOnly: true });
    expect(codeOf(await react(a, kept.id, '🎉'))).to.equal('ok');
    await patch({ readOnly: false, archived: true });
    expect(errorOf(await react(a, kept.id, '👍'))).to.equal('read_only: room is archived');
    expect(errorOf(await unreact(a, kept.id, '🎉'))).to.equal('read_only: room is archived');
    const [, stored] = await historyOf(node.app, admin.accessToken, room.id);
    expect(stored!.reactions).to.deep.equal([{ emoji: '🎉', count: 1, me: false }]);
  });

  it('when a user is muted, then they may not react but may take their reaction back; a private room’s message is not_found to a non-member', async () => {
    const admin = await registerAdmin(node.app);
    const { room, users: [alice], sockets: [a] } = await membersInRoom([node.app]);
    const message = await send(a, room.id);
    await reactOk(a, message.id, '👍');
    const control = await adminSocket(node.app, admin.accessToken);
    await ok(control, 'admin:mute', { userId: alice.user.id, roomId: room.id, minutes: 5 });

    expect(errorOf(await react(a, message.id, '🎉'))).to.equal('muted: you are muted in this room');
    expect(codeOf(await unreact(a, message.id, '👍'))).to.equal('ok');

    const secret = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
    const adminChat = await connect(node.app, { token: admin.accessToken });
    const hidden = await send(adminChat, secret.id, 'members only');
    const outsider = await connect(node.app, { token: (await registerUser(node.app)).accessToken });
    expect(errorOf(await react(outsider, hidden.id, '👍'))).to.equal('not_found: message not found');
  });

  it('when a client is away while reactions change, then joining with afterChange (and the changes page) gives the final counts with its own `me`', async () => {
    const { room, users: [alice], sockets: [a, b] } = await membersInRoom([node.app, node.app]);
    const message = await send(a, room.id);
    await reactOk(a, message.id, '👍');
    const { lastChange } = await ok<JoinResult>(a, 'room:join', { roomId: room.id });
    a.disconnect();

    await reactOk(b, message.id, '👍');
    await reactOk(b, message.id, '🎉');
    await ok(b, 'message:unreact', { messageId: message.id, emoji: '🎉' });
    await reactOk(b, message.id, '🔥');

    const back = await connect(node.app, { token: alice.accessToken });
    const joined = await ok<JoinResult>(back, 'room:join', { roomId: room.id, afterChange: lastChange });
    const expected = [{ emoji: '👍', count: 2, me: true }, { emoji: '🔥', count: 1, me: false }];
    expect(joined.changes!.map((m) => [m.id, m.reactions])).to.deep.equal([[message.id, expected]]);
    expect(joined.lastChange).to.equal(lastChange + 4);
    const page = await changesOf(node.app, alice.accessToken, room.id, lastChange);
    expect(page.changes.map((m: Message) => m.reactions)).to.deep.equal([expected]);
  });
});

describe('reaction limits', () => {
  const node = useNode({ MAX_REACTION_EMOJIS: '3', REACTION_RATE_LIMIT: '6', REACTION_RATE_WINDOW: '60' });

  it('when a message holds the most distinct emojis, then a new emoji is conflict while an emoji already there is still taken', async () => {
    const { room, sockets: [a, b] } = await membersInRoom([node.app, node.app]);
    const message = await send(a, room.id);
    for (const emoji of ['👍', '🎉', '🔥']) await reactOk(a, message.id, emoji);

    const fourth = await react(b, message.id, '🚀');
    const existing = await react(b, message.id, '🎉');

    expect(codeOf(fourth)).to.equal('conflict');
    expect(existing.ok && existing.message.reactions).to.deep.equal([
      { emoji: '👍', count: 1, me: false },
      { emoji: '🎉', count: 2, me: true },
      { emoji: '🔥', count: 1, me: false },
    ]);
  });

  it('when a user changes reactions faster than REACTION_RATE_LIMIT per window, then rate_limited (reacts and unreacts share the budget)', async () => {
    const { room, sockets: [a] } = await membersInRoom([node.app]);
    const message = await send(a, room.id);
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(codeOf(await (i % 2 ? unreact(a, message.id, '👍') : react(a, message.id, '👍'))));

    expect(outcomes).to.deep.equal(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'rate_limited', 'rate_limited']);
  });
});

describe('reactions across nodes', () => {
  const { node } = useRedisCluster('reactions across nodes');

  it('when users on two nodes react at once, then sockets on both nodes get every message:reaction in change order and end at the stored counts', async () => {
    const [nodeA, nodeB] = await Promise.all([node('a', { REACTION_RATE_LIMIT: '0' }), node('b', { REACTION_RATE_LIMIT: '0' })]);
    const { room, users: [alice], sockets: [a1, a2, b1, b2] } = await membersInRoom([nodeA, nodeA, nodeB, nodeB]);
    const message = await send(a1, room.id);
    const seenA = collect<MessageReactionEvent>(a2, 'message:reaction');
    const seenB = collect<MessageReactionEvent>(b2, 'message:reaction');
    const emojis = ['👍', '🎉', '🔥', '❤️'];

    await Promise.all(
      [a1, b1].map(async (socket) => {
        for (let round = 0; round < 3; round++) {
          for (const emoji of emojis) expect(codeOf(await react(socket, message.id, emoji))).to.equal('ok');
          expect(codeOf(await unreact(socket, message.id, emojis[round]!))).to.equal('ok');
        }
      }),
    );

    const [stored] = await historyOf(nodeA, alice.accessToken, room.id);
    for (const [name, seen] of [['node a', seenA], ['node b', seenB]] as const) {
      await waitFor(() => seen.some((e) => e.change === stored!.change), 10_000, `${name} to see the last reaction`);
      const changes = seen.map((e) => e.change);
      expect(changes, name).to.deep.equal([...changes].sort((x, y) => x - y));
      expect(new Set(changes).size, name).to.equal(changes.length);
      expect(seen[seen.length - 1]!.reactions, name).to.deep.equal(stored!.reactions!.map(({ emoji, count }) => ({ emoji, count })));
    }
    expect(seenA.map((e) => e.change)).to.deep.equal(seenB.map((e) => e.change));
  });
});

describe('reactions through the SDK', () => {
  closeClientsAfterEach();
  const { node } = useRedisCluster('reactions through the SDK');
  const portOf = (app: RoomcastApp) => (app.httpServer.address() as AddressInfo).port;

  it('when two clients react, then each room handle hears `reaction` with its own `me`, and a client that was offline converges through catch-up', async () => {
    const env = { REACTION_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' };
    const nodeA = await node('a', env);
    let nodeB = await node('b', env);
    const { client: alice } = await signedUpClient(nodeA);
    const { client: bob } = await signedUpClient(nodeA);
    const { client: carol } = await signedUpClient(nodeB);
    const created = await alice.rooms.create({ name: uniqueName('room') });
    const [roomA, roomB, roomC] = await Promise.all([alice.join(created.id), bob.join(created.id), carol.join(created.id)]);
    const heardA: ReactionUpdate[] = [];
    const heardB: ReactionUpdate[] = [];
    roomA.on('reaction', (r) => heardA.push(r));
    roomB.on('reaction', (r) => heardB.push(r));
    const updatedC: Message[] = [];
    roomC.on('updated', (m) => updatedC.push(m));
    const seenC: Message[] = [];
    roomC.on('message', (m) => seenC.push(m));
    const message = await roomA.send('react to me');
    await waitFor(() => seenC.length === 1, 5_000, 'carol to see the message');

    const acked = await roomA.react(message.id, '👍');
    await waitFor(() => heardB.length === 1, 5_000, 'bob to hear the reaction');
    await roomB.react(message.id, '👍');
    await waitFor(() => heardA.length === 2 && heardB.length === 2, 5_000, 'both to hear the second reaction');

    expect(acked.reactions).to.deep.equal([{ emoji: '👍', count: 1, me: true }]);
    expect(heardA.map((r) => r.reactions)).to.deep.equal([[{ emoji: '👍', count: 1, me: true }], [{ emoji: '👍', count: 2, me: true }]]);
    expect(heardB.map((r) => r.reactions)).to.deep.equal([[{ emoji: '👍', count: 1, me: false }], [{ emoji: '👍', count: 2, me: true }]]);

    await waitFor(() => roomC.lastChange === heardA[1]!.change, 5_000, 'carol to be at the second reaction');
    // Carol's node goes away; the reactions change meanwhile.
    const port = portOf(nodeB);
    await stopNode(nodeB);
    await waitFor(() => carol.state === 'reconnecting', 5_000, 'carol reconnecting');
    await roomA.unreact(message.id, '👍');
    await roomB.react(message.id, '🎉');
    nodeB = await node('b2', { ...env, PORT: String(port) });

    await waitFor(() => updatedC.some((m) => m.reactions?.length === 2), 10_000, 'carol to catch up the reactions');
    const last = updatedC[updatedC.length - 1]!;
    expect(last.reactions).to.deep.equal([{ emoji: '👍', count: 1, me: false }, { emoji: '🎉', count: 1, me: false }]);
    expect(roomC.lastChange).to.equal(last.change);
  });
});
