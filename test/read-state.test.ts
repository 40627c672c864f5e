// Read state that follows the user: room:read and its REST twin (one rule),
// unread counts in the room list, read:updated to the user's other devices
// across nodes, the members' read seqs, and throttled read receipts. Real
// sockets, real HTTP, real PostgreSQL, two nodes over real Redis.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Message, ReadReceiptEvent, ReadUpdatedEvent, RoomInfo, RoomReadsPage } from '../server/protocol.js';
import { UNREAD_COUNT_CAP } from '../server/protocol.js';
import { useRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { closeClients, sdkClient } from './support/sdk.js';
import {
  collect,
  connect,
  createRoom,
  http,
  listedRoom,
  nextEvent,
  ok,
  registerAdmin,
  registerUser,
  request,
  useNode,
  waitFor,
  type ChatClient,
  type TestUser,
} from './support/util.js';

async function send(socket: ChatClient, roomId: string, content: string): Promise<Message> {
  return (await ok<{ message: Message }>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() })).message;
}

/** The room as the user's `GET /api/rooms` lists it. */
/** room:read over a socket or PUT /api/rooms/:id/read: the same answer shape for both, so one table of cases runs through each. */
type ReadPath = (roomId: string, seq: unknown) => Promise<{ ok: true; readSeq: number } | { ok: false; code: string }>;

function socketPath(socket: ChatClient): ReadPath {
  return async (roomId, seq) => {
    const ack = await request<{ readSeq: number }>(socket, 'room:read', { roomId, seq });
    return ack.ok ? { ok: true, readSeq: ack.readSeq } : { ok: false, code: ack.error.code };
  };
}

function restPath(app: RoomcastApp, user: TestUser): ReadPath {
  return async (roomId, seq) => {
    const res = await http<{ readSeq: number; error: { code: string } }>(app, 'PUT', `/api/rooms/${roomId}/read`, { token: user.accessToken, body: { seq } });
    return res.status === 200 ? { ok: true, readSeq: res.body.readSeq } : { ok: false, code: res.body.error.code };
  };
}

describe('read state', () => {
  describe('on one node', () => {
    const node = useNode({ MESSAGE_RATE_LIMIT: '0' });
    afterEach(closeClients);

    /** Alice's room with `count` of her messages; Bob has joined it. */
    async function roomWithMessages(count: number) {
      const alice = await registerUser(node.app);
      const bob = await registerUser(node.app);
      const room = await createRoom(node.app, alice.accessToken);
      const aliceSocket = await connect(node.app, { token: alice.accessToken });
      const bobSocket = await connect(node.app, { token: bob.accessToken });
      await ok(aliceSocket, 'room:join', { roomId: room.id });
      await ok(bobSocket, 'room:join', { roomId: room.id });
      const sent: Message[] = [];
      for (let i = 0; i < count; i++) sent.push(await send(aliceSocket, room.id, `m${i + 1}`));
      return { alice, bob, room, aliceSocket, bobSocket, sent };
    }

    it('when room:read gives a lower seq than the stored one, then it is ignored and the ack answers the stored, higher readSeq', async () => {
      const { bob, room, bobSocket } = await roomWithMessages(5);

      expect(await ok(bobSocket, 'room:read', { roomId: room.id, seq: 4 })).to.deep.equal({ ok: true, readSeq: 4 });
      expect(await ok(bobSocket, 'room:read', { roomId: room.id, seq: 2 })).to.deep.equal({ ok: true, readSeq: 4 });
      expect(await ok(bobSocket, 'room:read', { roomId: room.id, seq: 4 })).to.deep.equal({ ok: true, readSeq: 4 });
      expect((await listedRoom(node.app, bob, room.id)).readSeq).to.equal(4);
      expect(await ok(bobSocket, 'room:read', { roomId: room.id, seq: 5 })).to.deep.equal({ ok: true, readSeq: 5 });
    });

    it('when messages are deleted or are the reader\'s own, then unreadCount leaves them out, and it counts from readSeq', async () => {
      const { alice, bob, room, aliceSocket, bobSocket, sent } = await roomWithMessages(5);
      const own1 = await send(bobSocket, room.id, 'mine 1');
      const own2 = await send(bobSocket, room.id, 'mine 2');
      await ok(aliceSocket, 'message:delete', { messageId: sent[1]!.id });
      await send(aliceSocket, room.id, 'm6');

      // Bob: alice's 6 messages, one deleted; his own two do not count.
      const before = await listedRoom(node.app, bob, room.id);
      expect(before).to.include({ lastSeq: 8, readSeq: 0, unreadCount: 5 });
      // Alice (the creator, a member): only Bob's two.
      expect(await listedRoom(node.app, alice, room.id)).to.include({ lastSeq: 8, readSeq: 0, unreadCount: 2 });

      await ok(bobSocket, 'room:read', { roomId: room.id, seq: sent[2]!.seq });
      expect(await listedRoom(node.app, bob, room.id)).to.include({ readSeq: 3, unreadCount: 3 });
      await ok(aliceSocket, 'room:read', { roomId: room.id, seq: own1.seq });
      expect(await listedRoom(node.app, alice, room.id)).to.include({ readSeq: own1.seq, unreadCount: 1 });
      await ok(aliceSocket, 'room:read', { roomId: room.id, seq: own2.seq });
      expect(await listedRoom(node.app, alice, room.id)).to.include({ unreadCount: 0 });
    });

    it('when a user never joined nor read a public room, then it lists with readSeq 0 and unreadCount 0; once read, it counts', async () => {
      const { room } = await roomWithMessages(3);
      const carol = await registerUser(node.app);

      expect(await listedRoom(node.app, carol, room.id)).to.include({ lastSeq: 3, readSeq: 0, unreadCount: 0, joined: false, readReceipts: false });
      const put = await http(node.app, 'PUT', `/api/rooms/${room.id}/read`, { token: carol.accessToken, body: { seq: 1 } });
      expect(put.status).to.equal(200);
      // Reading did not make her a member; her read state counts all the same.
      expect(await listedRoom(node.app, carol, room.id)).to.include({ readSeq: 1, unreadCount: 2, joined: false });
    });

    it('when unread messages pass UNREAD_COUNT_CAP, then unreadCount saturates there', async function () {
      this.timeout(30_000);
      const { alice, bob, room } = await roomWithMessages(0);
      // Stored straight through SQL: the cap is about the count, not about sending.
      const { knex } = environment.get().database;
      const total = UNREAD_COUNT_CAP + 5;
      await knex.raw(
        `insert into messages (room_id, seq, change, user_id, content, client_msg_id)
         select ?, g, g, ?, 'bulk', gen_random_uuid() from generate_series(1, ?) g`,
        [room.id, alice.user.id, total],
      );
      await knex('rooms').where({ id: room.id }).update({ last_seq: total, last_change: total });
      expect(await listedRoom(node.app, bob, room.id)).to.include({ lastSeq: total, unreadCount: UNREAD_COUNT_CAP });
      // Read to within the cap: exact again.
      await http(node.app, 'PUT', `/api/rooms/${room.id}/read`, { token: bob.accessToken, body: { seq: total - 7 } });
      expect(await listedRoom(node.app, bob, room.id)).to.include({ unreadCount: 7 });
    });

    it('when the input is bad, then room:read and PUT /api/rooms/:id/read answer the same clear codes, never internal', async () => {
      const { bob, room, bobSocket } = await roomWithMessages(3);
      const admin = await registerAdmin(node.app);
      const hidden = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      const history = await http(node.app, 'GET', `/api/rooms/${hidden.id}/messages`, { token: bob.accessToken });
      const cases: [string, string, unknown, string][] = [
        ['seq beyond lastSeq', room.id, 4, 'validation_failed'],
        ['negative seq', room.id, -1, 'validation_failed'],
        ['fractional seq', room.id, 1.5, 'validation_failed'],
        ['seq as a string', room.id, '2', 'validation_failed'],
        ['no seq', room.id, undefined, 'validation_failed'],
        ['huge seq', room.id, 2 ** 40, 'validation_failed'],
        ['unknown room', randomUUID(), 0, 'not_found'],
        // A room Bob may not read: the code history gives him.
        ['a private room of others', hidden.id, 0, (history.body as { error: { code: string } }).error.code],
      ];
      for (const [path, read] of [['socket', socketPath(bobSocket)], ['REST', restPath(node.app, bob)]] as const) {
        for (const [what, roomId, seq, code] of cases) {
          expect(await read(roomId, seq), `${path}: ${what}`).to.deep.equal({ ok: false, code });
        }
      }
      const beyond = await request(bobSocket, 'room:read', { roomId: room.id, seq: 4 });
      expect(!beyond.ok && beyond.error.details).to.deep.equal([{ path: 'seq', message: "must be at most 3 (the room's lastSeq)" }]);
      const malformed = await request(bobSocket, 'room:read', { roomId: 'not-a-uuid', seq: 1 });
      expect(!malformed.ok && malformed.error.code).to.equal('validation_failed');
      expect((await http(node.app, 'PUT', `/api/rooms/${room.id}/read`, { token: bob.accessToken, body: { seq: 1, extra: true } })).status).to.equal(400);
      expect((await http(node.app, 'PUT', `/api/rooms/${room.id}/read`, { body: { seq: 1 } })).status).to.equal(401);
      // Nothing was stored by any refusal.
      expect((await listedRoom(node.app, bob, room.id)).readSeq).to.equal(0);
    });

    it('when the socket and REST both set the read seq, then they share the one monotonic value, and REST tells every socket of the user', async () => {
      const { bob, room, bobSocket } = await roomWithMessages(6);
      const updates = collect<ReadUpdatedEvent>(bobSocket, 'read:updated');

      expect(await restPath(node.app, bob)(room.id, 5)).to.deep.equal({ ok: true, readSeq: 5 });
      expect(await socketPath(bobSocket)(room.id, 3)).to.deep.equal({ ok: true, readSeq: 5 });
      expect(await restPath(node.app, bob)(room.id, 4)).to.deep.equal({ ok: true, readSeq: 5 });
      expect(await socketPath(bobSocket)(room.id, 6)).to.deep.equal({ ok: true, readSeq: 6 });
      // Only the REST move reached the socket: its own room:read is no news to it, and ignored reads move nothing.
      await waitFor(() => updates.length >= 1, 5_000, 'read:updated');
      await ok(bobSocket, 'room:online', { roomId: room.id });
      expect(updates).to.deep.equal([{ roomId: room.id, readSeq: 5 }]);
    });

    it('when an SDK client is not connected, then markRead goes over REST; connected, over the socket; both answer the one stored value', async () => {
      const { bob, room } = await roomWithMessages(4);
      const client = sdkClient(node.app);
      await client.login(bob.user.username, bob.password);

      expect(await client.markRead(room.id, 2)).to.deep.equal({ readSeq: 2 });
      expect(client.state).to.not.equal('connected');
      const handle = await client.join(room.id);
      expect(handle.readSeq).to.equal(2);
      expect(await handle.markRead(1)).to.equal(2);
      expect(await handle.markRead(4)).to.equal(4);
      const err = await client.markRead(room.id, 5).catch((e: unknown) => e);
      expect(err).to.have.property('code', 'validation_failed');
      expect((await client.rooms.list()).find((r) => r.id === room.id)).to.include({ lastSeq: 4, readSeq: 4, unreadCount: 0 });
    });

    it('GET /api/rooms/:id/reads lists the members\' read seqs, paged; non-members who read are not listed; hidden rooms answer not_found', async () => {
      const { alice, bob, room, aliceSocket, bobSocket } = await roomWithMessages(4);
      const carol = await registerUser(node.app);
      await ok(aliceSocket, 'room:read', { roomId: room.id, seq: 4 });
      await ok(bobSocket, 'room:read', { roomId: room.id, seq: 2 });
      await http(node.app, 'PUT', `/api/rooms/${room.id}/read`, { token: carol.accessToken, body: { seq: 3 } });

      const all = await http<RoomReadsPage>(node.app, 'GET', `/api/rooms/${room.id}/reads`, { token: carol.accessToken });
      expect(all.status).to.equal(200);
      const expected = [
        { userId: alice.user.id, username: alice.user.username, readSeq: 4 },
        { userId: bob.user.id, username: bob.user.username, readSeq: 2 },
      ].sort((a, b) => (a.userId < b.userId ? -1 : 1));
      expect(all.body).to.deep.equal({ reads: expected, nextCursor: null });

      const first = await http<RoomReadsPage>(node.app, 'GET', `/api/rooms/${room.id}/reads?limit=1`, { token: bob.accessToken });
      expect(first.body).to.deep.equal({ reads: [expected[0]], nextCursor: expected[0]!.userId });
      const second = await http<RoomReadsPage>(node.app, 'GET', `/api/rooms/${room.id}/reads?limit=1&cursor=${first.body.nextCursor}`, { token: bob.accessToken });
      expect(second.body).to.deep.equal({ reads: [expected[1]], nextCursor: null });

      const admin = await registerAdmin(node.app);
      const hidden = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      expect((await http(node.app, 'GET', `/api/rooms/${hidden.id}/reads`, { token: bob.accessToken })).status).to.equal(404);
      expect((await http(node.app, 'GET', `/api/rooms/${room.id}/reads?limit=0`, { token: bob.accessToken })).status).to.equal(400);
    });

    it('when readReceipts is off (the default), then reads send no read:receipt; members may not switch it, an admin may', async () => {
      const { alice, bob, room, aliceSocket, bobSocket } = await roomWithMessages(3);
      const receipts = collect<ReadReceiptEvent>(aliceSocket, 'read:receipt');
      await ok(bobSocket, 'room:read', { roomId: room.id, seq: 2 });
      // The receipt would have been written to Alice's socket before Bob's ack; a round trip on her socket comes after it.
      await ok(aliceSocket, 'room:online', { roomId: room.id });
      expect(receipts).to.deep.equal([]);

      const refused = await http(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: alice.accessToken, body: { readReceipts: true } });
      expect(refused.status).to.equal(403);
      const admin = await registerAdmin(node.app);
      const updated = nextEvent<RoomInfo>(aliceSocket, 'room:updated');
      const patched = await http<{ room: RoomInfo }>(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { readReceipts: true } });
      expect(patched.status).to.equal(200);
      expect(patched.body.room.readReceipts).to.equal(true);
      expect((await updated).readReceipts).to.equal(true);

      await ok(bobSocket, 'room:read', { roomId: room.id, seq: 3 });
      await waitFor(() => receipts.length === 1, 5_000, 'read:receipt');
      expect(receipts).to.deep.equal([{ roomId: room.id, userId: bob.user.id, readSeq: 3 }]);
    });

    it('when a reader reads a burst, then receipts are throttled per user and room and coalesced: the first at once, the last value at the end of the window', async () => {
      const burst = 12;
      const { bob, room, aliceSocket, bobSocket } = await roomWithMessages(burst);
      const admin = await registerAdmin(node.app);
      await http(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { readReceipts: true } });
      const receipts = collect<ReadReceiptEvent>(aliceSocket, 'read:receipt');

      const started = Date.now();
      for (let seq = 1; seq <= burst; seq++) await ok(bobSocket, 'room:read', { roomId: room.id, seq });
      const burstMs = Date.now() - started;
      await waitFor(() => receipts.at(-1)?.readSeq === burst, 5_000, 'the coalesced last receipt');

      // Each one-second window sends at most its first read and its last: never one per read.
      const windows = Math.ceil(burstMs / 1_000) + 1;
      expect(receipts.length).to.be.within(2, windows + 1);
      expect(receipts.length).to.be.below(burst);
      expect(receipts[0]).to.deep.equal({ roomId: room.id, userId: bob.user.id, readSeq: 1 });
      const values = receipts.map((r) => r.readSeq);
      expect(values).to.deep.equal([...values].sort((a, b) => a - b));
      expect(new Set(values).size).to.equal(values.length);
    });
  });

  describe('budget (READ_RATE_LIMIT)', () => {
    const node = useNode({ MESSAGE_RATE_LIMIT: '0', READ_RATE_LIMIT: '3', READ_RATE_WINDOW: '60' });

    it('when a user spends the read budget over the socket and REST together, then both answer rate_limited and nothing more is stored', async () => {
      const alice = await registerUser(node.app);
      const room = await createRoom(node.app, alice.accessToken);
      const socket = await connect(node.app, { token: alice.accessToken });
      await ok(socket, 'room:join', { roomId: room.id });
      for (let i = 0; i < 5; i++) await send(socket, room.id, `m${i}`);

      expect(await socketPath(socket)(room.id, 1)).to.deep.equal({ ok: true, readSeq: 1 });
      expect(await restPath(node.app, alice)(room.id, 2)).to.deep.equal({ ok: true, readSeq: 2 });
      // A refused read spends the budget too (spent before the room is looked up).
      expect(await socketPath(socket)(room.id, 99)).to.deep.equal({ ok: false, code: 'validation_failed' });
      expect(await socketPath(socket)(room.id, 4)).to.deep.equal({ ok: false, code: 'rate_limited' });
      const refused = await http(node.app, 'PUT', `/api/rooms/${room.id}/read`, { token: alice.accessToken, body: { seq: 5 } });
      expect(refused.status).to.equal(429);
      expect(refused.headers.get('retry-after')).to.match(/^[1-9][0-9]*$/);
      expect((await listedRoom(node.app, alice, room.id)).readSeq).to.equal(2);
    });
  });

  describe('across two nodes over Redis', () => {
    const cluster = useRedisCluster('read state across nodes');
    afterEach(closeClients);

    it('when one device reads on node A, then the same user\'s SDK client on node B gets read:updated and its room list shows unreadCount 0', async () => {
      const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);
      const alice = await registerUser(a);
      const bob = await registerUser(a);
      const room = await createRoom(a, alice.accessToken);
      const aliceSocket = await connect(a, { token: alice.accessToken });
      await ok(aliceSocket, 'room:join', { roomId: room.id });
      for (let i = 0; i < 3; i++) await send(aliceSocket, room.id, `m${i}`);

      // Bob's second device: the SDK, on node B, not in the room.
      const phone = sdkClient(b);
      await phone.login(bob.user.username, bob.password);
      await phone.connect();
      const before = (await phone.rooms.list()).find((r) => r.id === room.id)!;
      expect(before).to.include({ lastSeq: 3, readSeq: 0, unreadCount: 0 });
      const phoneRoom = await phone.join(room.id);
      expect((await phone.rooms.list()).find((r) => r.id === room.id)).to.include({ unreadCount: 3 });
      const heard: ReadUpdatedEvent[] = [];
      phone.on('readUpdated', (event) => heard.push(event));
      const roomHeard: ReadUpdatedEvent[] = [];
      phoneRoom.on('readUpdated', (event) => roomHeard.push(event));

      // Bob's first device: a raw socket on node A.
      const desktop = await connect(a, { token: bob.accessToken });
      const echo = collect<ReadUpdatedEvent>(desktop, 'read:updated');
      expect(await ok(desktop, 'room:read', { roomId: room.id, seq: 3 })).to.deep.equal({ ok: true, readSeq: 3 });

      await waitFor(() => heard.length === 1 && roomHeard.length === 1, 5_000, 'read:updated on node B');
      expect(heard).to.deep.equal([{ roomId: room.id, readSeq: 3 }]);
      expect(phoneRoom.readSeq).to.equal(3);
      expect((await phone.rooms.list()).find((r) => r.id === room.id)).to.include({ readSeq: 3, unreadCount: 0 });
      expect(echo).to.deep.equal([]);

      // And back: the phone marks a newer message read through the SDK; the desktop hears it.
      await send(aliceSocket, room.id, 'm4');
      const moved = nextEvent<ReadUpdatedEvent>(desktop, 'read:updated');
      expect(await phone.markRead(room.id, 4)).to.deep.equal({ readSeq: 4 });
      expect(await moved).to.deep.equal({ roomId: room.id, readSeq: 4 });
      expect(await phoneRoom.markRead(2)).to.equal(4);
    });

    it('when receipts are on, then a reader on node A is seen by a member on node B, and GET /reads on node B has their seq', async () => {
      const [a, b] = await Promise.all([cluster.node('a'), cluster.node('b')]);
      const admin = await registerAdmin(a);
      const reader = await registerUser(a);
      const room = await createRoom(a, admin.accessToken);
      await http(a, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { readReceipts: true } });
      const watcher = await connect(b, { token: admin.accessToken });
      await ok(watcher, 'room:join', { roomId: room.id });
      await send(watcher, room.id, 'hello');
      const readerSocket = await connect(a, { token: reader.accessToken });
      await ok(readerSocket, 'room:join', { roomId: room.id });

      const receipt = nextEvent<ReadReceiptEvent>(watcher, 'read:receipt');
      await ok(readerSocket, 'room:read', { roomId: room.id, seq: 1 });
      expect(await receipt).to.deep.equal({ roomId: room.id, userId: reader.user.id, readSeq: 1 });
      const reads = await http<RoomReadsPage>(b, 'GET', `/api/rooms/${room.id}/reads`, { token: admin.accessToken });
      expect(reads.body.reads).to.deep.include({ userId: reader.user.id, username: reader.user.username, readSeq: 1 });
    });
  });
});
