// Mentions (issue 14): `@username` resolved at commit to the mentioned members
// of the room, stored with the message and returned everywhere a message is;
// `mention` to the mentioned user's sockets on every node; `mentionCount` in
// the room list. Real sockets, real HTTP, real PostgreSQL, two nodes over Redis.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { MessageStore, type PendingMessage } from '../db/stores/message-store.js';
import { RoomStore } from '../db/stores/room-store.js';
import { UserStore } from '../db/stores/user-store.js';
import { mentionCandidates } from '../server/messages/mentions.js';
import type { ChangesPage, HistoryPage, Message, MentionEvent } from '../server/protocol.js';
import { MAX_MENTIONS, MENTION_COUNT_CAP } from '../server/protocol.js';
import { useRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { closeClients, sdkClient } from './support/sdk.js';
import {
  collect,
  connect,
  createRoom,
  http,
  listedRoom,
  issuedSecrets,
  nextEvent,
  ok,
  registerAdmin,
  registerUser,
  sleep,
  useNode,
  waitFor,
  type ChatClient,
  uniqueName,
} from './support/util.js';

async function send(socket: ChatClient, roomId: string, content: string, clientMsgId: string = randomUUID()): Promise<Message> {
  return (await ok<{ message: Message }>(socket, 'message:send', { roomId, content, clientMsgId })).message;
}

/** Time for a `mention` that should not come to arrive all the same (the one that should come is awaited first). */
const QUIET_MS = 200;

describe('mentions', () => {
  describe('mentionCandidates (the JS side of the hot path)', () => {
    it('when content has no @, then no candidates; else lower-cased names without repeats, not e-mail addresses, at most MAX_MENTIONS', () => {
      expect(mentionCandidates('hello world')).to.deep.equal([]);
      expect(mentionCandidates('hi @Ana and @ana, mail bob@example.com')).to.deep.equal(['ana']);
      expect(mentionCandidates('thanks @bo.b.')).to.deep.equal(['bo.b.', 'bo.b']);
      expect(mentionCandidates('@ab is too short, @abc is not')).to.deep.equal(['abc']);
      const many = Array.from({ length: MAX_MENTIONS + 5 }, (_, i) => `@user${i}`).join(' ');
      expect(mentionCandidates(many)).to.have.length(MAX_MENTIONS);
    });
  });

  describe('MessageStore.appendBatch with mentions', () => {
    it('when one batch mixes rooms, sends with and without candidates, a refused one and a repeat, then each stored message gets its own members and message_mentions holds exactly those', async () => {
      const { knex } = environment.get().database;
      // A store without a gate writes the webhook outbox too: the mention statement's outbox variant.
      const messages = new MessageStore(knex);
      const rooms = new RoomStore(knex);
      const userStore = new UserStore(knex);
      const newUser = () => {
        const name = uniqueName('mention');
        return userStore.create({ username: name, email: `${name}@example.test`, passwordHash: 'x' });
      };
      const [ann, ben, cat] = [await newUser(), await newUser(), await newUser()];
      const one = await rooms.create({ name: 'one', visibility: 'public', readOnly: false, createdBy: ann.id });
      const two = await rooms.create({ name: 'two', visibility: 'private', readOnly: false, createdBy: ann.id });
      await rooms.addMember(one.id, ben.id);
      await rooms.addMember(one.id, cat.id);
      await rooms.addMember(two.id, cat.id);
      const names = (...people: { username: string }[]) => people.map((p) => p.username.toLowerCase());
      const pending = (roomId: string, author: { id: string; username: string }, mentionNames?: string[], clientMsgId = randomUUID()): PendingMessage => ({
        roomId, userId: author.id, username: author.username, role: 'member', content: 'text', clientMsgId, ...(mentionNames ? { mentionNames } : {}),
      });
      const repeated = randomUUID();

      const outcomes = await messages.appendBatch([
        pending(one.id, ann, names(ben, cat, ann)),
        pending(one.id, ann),
        pending(two.id, ben, names(cat)), // Ben is no member of the private room: refused
        pending(two.id, ann, names(ben, cat)), // Ben is no member there: only Cat
        pending(one.id, cat, names(ben), repeated),
        pending(one.id, cat, names(ben), repeated),
      ]);

      const mentionsOf = outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.message.mentions));
      expect(mentionsOf).to.deep.equal([[ben.id, cat.id].sort(), [], 'room_not_found', [cat.id], [ben.id], [ben.id]]);
      const rows = (await knex('message_mentions').whereIn('room_id', [one.id, two.id]).orderBy(['room_id', 'seq', 'user_id'])) as { user_id: string; room_id: string; seq: number }[];
      const stored = outcomes.flatMap((o) => (o.status === 'stored' ? o.message.mentions.map((userId) => ({ user_id: userId, room_id: o.message.roomId, seq: o.message.seq })) : []));
      expect(rows).to.have.deep.members(stored);
      expect(rows).to.have.length(4);
    });
  });

  describe('on one node', () => {
    const node = useNode({ MESSAGE_RATE_LIMIT: '0' });
    afterEach(closeClients);

    /** Alice's public room; Bob joined it (a member); Carol did not. Each has a socket, none but Alice's in the room's live events. */
    async function publicRoom() {
      const [alice, bob, carol] = await Promise.all([registerUser(node.app), registerUser(node.app), registerUser(node.app)]);
      const room = await createRoom(node.app, alice.accessToken);
      const [aliceSocket, bobSocket, carolSocket] = await Promise.all([alice, bob, carol].map((u) => connect(node.app, { token: u.accessToken })));
      await ok(aliceSocket!, 'room:join', { roomId: room.id });
      await ok(bobSocket!, 'room:join', { roomId: room.id });
      await ok(bobSocket!, 'room:leave', { roomId: room.id });
      return { alice, bob, carol, room, aliceSocket: aliceSocket!, bobSocket: bobSocket!, carolSocket: carolSocket! };
    }

    it('when a message names a member (any letter case), a non-member and no one, then only the member is mentioned and only they hear `mention`', async () => {
      const { alice, bob, carol, room, aliceSocket, bobSocket, carolSocket } = await publicRoom();
      const carolHeard = collect<MentionEvent>(carolSocket, 'mention');
      const aliceHeard = collect<MentionEvent>(aliceSocket, 'mention');
      const bobHears = nextEvent<MentionEvent>(bobSocket, 'mention');

      const message = await send(aliceSocket, room.id, `hey @${bob.user.username.toUpperCase()}, @${carol.user.username} and @${alice.user.username} and @nobody_${randomUUID().slice(0, 8)}`);

      expect(message.mentions).to.deep.equal([bob.user.id]);
      expect(await bobHears).to.deep.equal({ roomId: room.id, seq: message.seq, messageId: message.id });
      await sleep(QUIET_MS);
      expect(carolHeard, 'a non-member of a public room is not notified').to.deep.equal([]);
      expect(aliceHeard, 'the author does not mention herself').to.deep.equal([]);
    });

    it('when a message mentions someone, then history (socket and REST), change pages, live message:new and a repeated send carry the same mentions; plain messages carry []', async () => {
      const { bob, room, aliceSocket, bobSocket } = await publicRoom();
      await ok(bobSocket, 'room:join', { roomId: room.id });
      const live = nextEvent<Message>(bobSocket, 'message:new');
      const clientMsgId = randomUUID();
      const mentioned = await send(aliceSocket, room.id, `@${bob.user.username} look`, clientMsgId);
      const plain = await send(aliceSocket, room.id, 'no one here');

      expect((await live).mentions).to.deep.equal([bob.user.id]);
      expect(plain.mentions).to.deep.equal([]);
      expect((await send(aliceSocket, room.id, `@${bob.user.username} look`, clientMsgId)).mentions, 'a repeated send answers the stored mentions').to.deep.equal([bob.user.id]);
      const history = await ok<HistoryPage>(bobSocket, 'room:history', { roomId: room.id });
      expect(history.messages.map((m) => m.mentions)).to.deep.equal([[bob.user.id], []]);
      const rest = await http<HistoryPage>(node.app, 'GET', `/api/rooms/${room.id}/messages`, { token: bob.accessToken });
      expect(rest.body.messages).to.deep.equal(history.messages);
      const changes = await http<ChangesPage>(node.app, 'GET', `/api/rooms/${room.id}/changes`, { token: bob.accessToken });
      expect(changes.body.changes.map((m) => [m.id, m.mentions])).to.deep.equal([[mentioned.id, [bob.user.id]], [plain.id, []]]);
    });

    it('when a message is edited, then its mentions stay as resolved at send and no one hears `mention` anew; once deleted it names no one', async () => {
      const { bob, carol, room, aliceSocket, bobSocket, carolSocket } = await publicRoom();
      await ok(carolSocket, 'room:join', { roomId: room.id });
      const first = nextEvent<MentionEvent>(bobSocket, 'mention');
      const message = await send(aliceSocket, room.id, `@${bob.user.username}?`);
      await first;
      const bobHeard = collect<MentionEvent>(bobSocket, 'mention');
      const carolHeard = collect<MentionEvent>(carolSocket, 'mention');

      const edited = await ok<{ message: Message }>(aliceSocket, 'message:edit', { messageId: message.id, content: `@${carol.user.username} instead` });
      expect(edited.message.mentions).to.deep.equal([bob.user.id]);
      await ok(aliceSocket, 'message:delete', { messageId: message.id });
      const history = await ok<HistoryPage>(aliceSocket, 'room:history', { roomId: room.id });
      expect(history.messages[0]).to.include({ deleted: true, content: '' });
      expect(history.messages[0]!.mentions).to.deep.equal([]);
      await sleep(QUIET_MS);
      expect(bobHeard).to.deep.equal([]);
      expect(carolHeard).to.deep.equal([]);
    });

    it('when a private room\'s member names a non-member or an unknown user, then neither is resolved (the message looks the same for both) and no one outside hears of it', async () => {
      const admin = await registerAdmin(node.app);
      const otherAdmin = await registerAdmin(node.app);
      const [bob, carol] = await Promise.all([registerUser(node.app), registerUser(node.app)]);
      const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      const added = await http(node.app, 'POST', `/api/rooms/${room.id}/members`, { token: admin.accessToken, body: { userId: bob.user.id } });
      expect(added.status).to.equal(204);
      const bobSocket = await connect(node.app, { token: bob.accessToken });
      const carolSocket = await connect(node.app, { token: carol.accessToken });
      const carolHeard = collect<MentionEvent>(carolSocket, 'mention');
      const adminSocket = await connect(node.app, { token: admin.accessToken });
      await ok(bobSocket, 'room:join', { roomId: room.id });

      const toCarol = await send(bobSocket, room.id, `@${carol.user.username} are you here?`);
      const toGhost = await send(bobSocket, room.id, `@ghost_${randomUUID().slice(0, 8)} are you here?`);
      // An admin may post in any room, but one who is no member of this one is not resolved either.
      const toAdmin = await send(bobSocket, room.id, `@${otherAdmin.user.username} help`);
      expect([toCarol.mentions, toGhost.mentions, toAdmin.mentions]).to.deep.equal([[], [], []]);
      // A member is resolved: the admin (the room's creator, so a member) mentions Bob.
      const bobHears = nextEvent<MentionEvent>(bobSocket, 'mention');
      const toBob = await send(adminSocket, room.id, `@${bob.user.username} noted`);
      expect(toBob.mentions).to.deep.equal([bob.user.id]);
      expect(await bobHears).to.include({ roomId: room.id, seq: toBob.seq });
      await sleep(QUIET_MS);
      expect(carolHeard).to.deep.equal([]);
      expect((await listedRoom(node.app, bob, room.id)).mentionCount).to.equal(1);
    });

    it('when sends with and without mentions share one group commit, then each message gets its own mentions', async () => {
      const { alice, bob, carol, room, aliceSocket, carolSocket } = await publicRoom();
      await ok(carolSocket, 'room:join', { roomId: room.id });
      const contents = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? `plain ${i}` : i % 3 === 1 ? `@${bob.user.username} ${i}` : `@${carol.user.username} @${bob.user.username} ${i}`));
      const sent = await Promise.all(contents.map((content) => send(aliceSocket, room.id, content)));
      const both = [bob.user.id, carol.user.id].sort();
      sent.forEach((m, i) => expect(m.mentions, m.content).to.deep.equal(i % 3 === 0 ? [] : i % 3 === 1 ? [bob.user.id] : both));
      expect(alice.user.id).to.be.a('string');
    });

    it('when Bob is mentioned, then mentionCount counts the mentions after his readSeq, not deleted ones, beside unreadCount', async () => {
      const { bob, room, aliceSocket, bobSocket } = await publicRoom();
      const m1 = await send(aliceSocket, room.id, `@${bob.user.username} one`);
      await send(aliceSocket, room.id, 'plain');
      const m3 = await send(aliceSocket, room.id, `two @${bob.user.username}`);
      const m4 = await send(aliceSocket, room.id, `three @${bob.user.username}`);
      await send(bobSocket, room.id, 'my own');

      expect(await listedRoom(node.app, bob, room.id)).to.include({ readSeq: 0, unreadCount: 4, mentionCount: 3 });
      await ok(bobSocket, 'room:read', { roomId: room.id, seq: m1.seq });
      expect(await listedRoom(node.app, bob, room.id)).to.include({ unreadCount: 3, mentionCount: 2 });
      await ok(aliceSocket, 'message:delete', { messageId: m4.id });
      expect(await listedRoom(node.app, bob, room.id)).to.include({ unreadCount: 2, mentionCount: 1 });
      await ok(bobSocket, 'room:read', { roomId: room.id, seq: m3.seq });
      expect(await listedRoom(node.app, bob, room.id)).to.include({ mentionCount: 0 });
    });

    it('when the server API publishes a message as a user, then its @usernames resolve by the same rule and the member hears `mention`', async () => {
      const admin = await registerAdmin(node.app);
      const { bob, carol, room, bobSocket, carolSocket } = await publicRoom();
      const created = await http<{ key: string }>(node.app, 'POST', '/api/admin/api-keys', { token: admin.accessToken, body: { name: uniqueName('key'), scopes: ['publish'] } });
      expect(created.status).to.equal(201);
      issuedSecrets.add(created.body.key);
      const carolHeard = collect<MentionEvent>(carolSocket, 'mention');
      const bobHears = nextEvent<MentionEvent>(bobSocket, 'mention');

      const published = await http<{ message: Message }>(node.app, 'POST', `/api/server/rooms/${room.id}/messages`, {
        token: created.body.key,
        body: { userId: carol.user.id, content: `ping @${bob.user.username}`, clientMsgId: randomUUID() },
      });

      expect(published.status).to.equal(201);
      expect(published.body.message.mentions).to.deep.equal([bob.user.id]);
      expect(await bobHears).to.deep.equal({ roomId: room.id, seq: published.body.message.seq, messageId: published.body.message.id });
      await sleep(QUIET_MS);
      expect(carolHeard).to.deep.equal([]);
    });

    it('when mentions pass MENTION_COUNT_CAP, then mentionCount saturates there', async function () {
      this.timeout(30_000);
      const { alice, bob, room } = await publicRoom();
      // Stored straight through SQL: the cap is about the count, not about sending.
      const { knex } = environment.get().database;
      const total = MENTION_COUNT_CAP + 5;
      await knex.raw(
        `insert into messages (room_id, seq, change, user_id, content, client_msg_id, mentions)
         select ?, g, g, ?, 'bulk', gen_random_uuid(), array[?::uuid] from generate_series(1, ?) g`,
        [room.id, alice.user.id, bob.user.id, total],
      );
      await knex.raw('insert into message_mentions (user_id, room_id, seq) select ?, ?, g from generate_series(1, ?) g', [bob.user.id, room.id, total]);
      await knex('rooms').where({ id: room.id }).update({ last_seq: total, last_change: total });
      expect(await listedRoom(node.app, bob, room.id)).to.include({ mentionCount: MENTION_COUNT_CAP });
      await http(node.app, 'PUT', `/api/rooms/${room.id}/read`, { token: bob.accessToken, body: { seq: total - 4 } });
      expect(await listedRoom(node.app, bob, room.id)).to.include({ mentionCount: 4 });
    });
  });

  describe('across nodes', () => {
    const cluster = useRedisCluster('mentions across nodes');
    afterEach(closeClients);

    it('when Alice on node A mentions Bob, then Bob\'s sockets on both nodes, in the room or not, each hear `mention` once, and his SDK client on B (client and room handle) sees it and mentionCount', async () => {
      const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const room = await createRoom(a, alice.accessToken);
      const aliceSocket = await connect(a, { token: alice.accessToken });
      await ok(aliceSocket, 'room:join', { roomId: room.id });
      const bobOnA = await connect(a, { token: bob.accessToken });
      await ok(bobOnA, 'room:join', { roomId: room.id });
      await ok(bobOnA, 'room:leave', { roomId: room.id });
      const bobOnB = await connect(b, { token: bob.accessToken });
      await ok(bobOnB, 'room:join', { roomId: room.id });
      const heardOnA = collect<MentionEvent>(bobOnA, 'mention');
      const heardOnB = collect<MentionEvent>(bobOnB, 'mention');
      const liveOnB = nextEvent<Message>(bobOnB, 'message:new');
      const phone = sdkClient(b);
      await phone.login(bob.user.username, bob.password);
      await phone.connect();
      const sdkHeard: MentionEvent[] = [];
      phone.on('mention', (event) => sdkHeard.push(event));
      const phoneRoom = await phone.join(room.id);
      const roomHeard: MentionEvent[] = [];
      phoneRoom.on('mention', (event) => roomHeard.push(event));

      const message = await send(aliceSocket, room.id, `@${bob.user.username} see this`);
      const expected = { roomId: room.id, seq: message.seq, messageId: message.id };

      expect((await liveOnB).mentions).to.deep.equal([bob.user.id]);
      await waitFor(() => heardOnA.length > 0 && heardOnB.length > 0 && sdkHeard.length > 0 && roomHeard.length > 0, 5_000, 'mention on both nodes');
      await sleep(QUIET_MS);
      expect(heardOnA).to.deep.equal([expected]);
      expect(heardOnB).to.deep.equal([expected]);
      expect(sdkHeard).to.deep.equal([expected]);
      expect(roomHeard, 'the joined room handle hears it too').to.deep.equal([expected]);
      expect((await phone.rooms.list()).find((r) => r.id === room.id)).to.include({ mentionCount: 1 });
    });
  });
});
