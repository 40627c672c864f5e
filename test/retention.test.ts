// Issue 19, retention: messages past their room's retention (its own
// retentionDays, else MESSAGE_RETENTION_DAYS) are deleted as a seq prefix in
// bounded batches by one node at a time, history says where it starts
// (oldestSeq), a change-log catch-up from before the cut answers
// changes_expired, what hangs off a deleted message goes with it, and the
// audit log has its own retention. Time is controlled by setting created_at
// in the test data: no sleeps.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { RetentionStore } from '../db/stores/retention-store.js';
import { RetentionSweeper } from '../server/messages/retention.js';
import type { RoomcastApp } from '../server/app.js';
import type { Ack, ChangesPage, HistoryPage, JoinResult, MessageResult, RoomInfo } from '../server/protocol.js';
import { environment } from './support/environment.js';
import {
  closeAll,
  connect,
  createRoom,
  http,
  issuedSecrets,
  listedRoom,
  nextEvent,
  ok,
  registerAdmin,
  registerUser,
  request,
  startNode,
  testLogger,
  waitFor,
  type ChatClient,
  type TestUser,
} from './support/util.js';

const knex = () => environment.get().database.knex;

/** Makes the room's messages up to `seq` `days` old (and the later ones as they are). */
async function age(roomId: string, seqs: number[], days: number): Promise<void> {
  await knex()('messages').where('room_id', roomId).whereIn('seq', seqs).update({ created_at: knex().raw(`now() - make_interval(days => ?)`, [days]) });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const send = async (socket: ChatClient, roomId: string, content: string, extra: Record<string, unknown> = {}) =>
  (await ok<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID(), ...extra })).message;

async function sendMany(socket: ChatClient, roomId: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) await send(socket, roomId, `m${i}`);
}

const seqsOf = async (roomId: string) => (await knex()('messages').where('room_id', roomId).orderBy('seq').pluck('seq')) as number[];

const setRetention = (app: RoomcastApp, admin: TestUser, roomId: string, retentionDays: unknown) =>
  http<{ room: RoomInfo }>(app, 'PATCH', `/api/rooms/${roomId}`, { token: admin.accessToken, body: { retentionDays } });

/** An admin, a member with a joined socket, and a room of `count` messages (by the given admin and member, if any: registering costs bcrypt time). */
async function roomWithMessages(app: RoomcastApp, count: number, party?: { admin: TestUser; member: TestUser }) {
  const admin = party?.admin ?? (await registerAdmin(app));
  const member = party?.member ?? (await registerUser(app));
  const room = await createRoom(app, member.accessToken);
  const socket = await connect(app, { token: member.accessToken });
  await ok(socket, 'room:join', { roomId: room.id });
  await sendMany(socket, room.id, count);
  return { admin, member, room, socket };
}

describe('retention', () => {
  afterEach(closeAll);

  describe('what a sweep deletes', () => {
    it('when a room keeps 30 days and its first six messages are 40 days old, then a sweep deletes exactly those and history starts at seq 7', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
      const { admin, member, room } = await roomWithMessages(app, 10);
      const untouched = await roomWithMessages(app, 3);
      expect((await setRetention(app, admin, room.id, 30)).body.room).to.include({ retentionDays: 30, oldestSeq: 1 });
      await setRetention(app, admin, untouched.room.id, 30);
      await age(room.id, range(1, 6), 40);
      await age(untouched.room.id, range(1, 3), 29);

      const report = await app.retention.sweep();

      expect(report).to.deep.include({ ran: true, messages: 6, rooms: 1 });
      expect(await seqsOf(room.id)).to.deep.equal(range(7, 10));
      expect(await seqsOf(untouched.room.id)).to.deep.equal(range(1, 3));
      const history = await http<HistoryPage>(app, 'GET', `/api/rooms/${room.id}/messages?afterSeq=0`, { token: member.accessToken });
      expect(history.body.oldestSeq).to.equal(7);
      expect(history.body.messages.map((m) => m.seq)).to.deep.equal(range(7, 10));
      expect((await http<{ room: RoomInfo }>(app, 'GET', `/api/rooms/${room.id}`, { token: member.accessToken })).body.room).to.include({ oldestSeq: 7, lastSeq: 10 });
      // A second sweep finds nothing more to do.
      expect(await app.retention.sweep()).to.deep.include({ ran: true, messages: 0 });
    });

    it('when a batch is bounded, then each statement deletes at most that many, always the oldest seqs first', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
      const { admin, room } = await roomWithMessages(app, 10);
      await setRetention(app, admin, room.id, 30);
      await age(room.id, range(1, 9), 40);
      const store = new RetentionStore(knex());

      const batches = [await store.deleteRoomBatch(room.id, 0, 4), await store.deleteRoomBatch(room.id, 0, 4), await store.deleteRoomBatch(room.id, 0, 4)];

      expect(batches).to.deep.equal([
        { deleted: 4, oldestSeq: 5 },
        { deleted: 4, oldestSeq: 9 },
        { deleted: 1, oldestSeq: 10 },
      ]);
      expect(await store.deleteRoomBatch(room.id, 0, 4)).to.deep.equal({ deleted: 0, oldestSeq: null });
      expect(await seqsOf(room.id)).to.deep.equal([10]);
    });

    it('when a sweep runs with a small RETENTION_BATCH_SIZE, then it deletes the whole backlog in batches of that size', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0', RETENTION_BATCH_SIZE: '3' });
      const { admin, room } = await roomWithMessages(app, 12);
      await setRetention(app, admin, room.id, 7);
      await age(room.id, range(1, 11), 8);

      expect(await app.retention.sweep()).to.deep.include({ ran: true, messages: 11, rooms: 1 });
      expect(await seqsOf(room.id)).to.deep.equal([12]);
    });

    it('when a message that is not old stands between old ones, then only the seq prefix before it goes (history never has a hole)', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
      const { admin, room } = await roomWithMessages(app, 6);
      await setRetention(app, admin, room.id, 30);
      await age(room.id, [1, 2, 3, 5], 40);

      await app.retention.sweep();

      expect(await seqsOf(room.id)).to.deep.equal([4, 5, 6]);
    });
  });

  describe('the room setting and the global one', () => {
    it('when MESSAGE_RETENTION_DAYS is 30, then a room without its own setting follows it, and a room’s own setting beats it either way (0 keeps for ever)', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0', MESSAGE_RETENTION_DAYS: '30' });
      const global = await roomWithMessages(app, 3);
      const longer = await roomWithMessages(app, 3, global);
      const forever = await roomWithMessages(app, 3, global);
      const shorter = await roomWithMessages(app, 3, global);
      await setRetention(app, global.admin, longer.room.id, 60);
      await setRetention(app, global.admin, forever.room.id, 0);
      await setRetention(app, global.admin, shorter.room.id, 10);
      await age(global.room.id, [1, 2], 40);
      await age(longer.room.id, [1, 2], 40);
      await age(forever.room.id, [1, 2], 4000);
      await age(shorter.room.id, [1, 2], 20);

      await app.retention.sweep();

      expect(await seqsOf(global.room.id)).to.deep.equal([3]);
      expect(await seqsOf(longer.room.id)).to.deep.equal([1, 2, 3]);
      expect(await seqsOf(forever.room.id)).to.deep.equal([1, 2, 3]);
      expect(await seqsOf(shorter.room.id)).to.deep.equal([3]);
    });

    it('when retentionDays is set back to null, then the room follows the server’s default again', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0', MESSAGE_RETENTION_DAYS: '30' });
      const { admin, room } = await roomWithMessages(app, 2);
      await setRetention(app, admin, room.id, 0);
      await age(room.id, [1], 40);
      await app.retention.sweep();
      expect(await seqsOf(room.id)).to.deep.equal([1, 2]);

      const reset = await setRetention(app, admin, room.id, null);
      await app.retention.sweep();

      expect(reset.body.room.retentionDays).to.equal(null);
      expect(await seqsOf(room.id)).to.deep.equal([2]);
    });

    it('when retentionDays is not an integer in 0-36500, or a member sets it, then the answer is validation_failed or forbidden and nothing changes', async () => {
      const app = await startNode();
      const { admin, member, room } = await roomWithMessages(app, 0);

      for (const bad of [-1, 36501, 1.5, '30', true]) {
        const res = await setRetention(app, admin, room.id, bad);
        expect(res.status, String(bad)).to.equal(400);
        expect(res.body).to.have.nested.property('error.code', 'validation_failed');
      }
      const byMember = await setRetention(app, member, room.id, 1);

      expect(byMember.status).to.equal(403);
      expect((await http<{ room: RoomInfo }>(app, 'GET', `/api/rooms/${room.id}`, { token: admin.accessToken })).body.room.retentionDays).to.equal(null);
    });
  });

  describe('the server API’s room update', () => {
    it('when the app’s backend sets retentionDays with a rooms key, then the same rule applies (validated, audited, room:updated) and the next sweep follows it', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
      const { admin, room, socket } = await roomWithMessages(app, 3);
      const created = await http<{ key: string }>(app, 'POST', '/api/admin/api-keys', { token: admin.accessToken, body: { name: `retention-${randomUUID().slice(0, 6)}`, scopes: ['rooms'] } });
      issuedSecrets.add(created.body.key);
      const call = (body: unknown) => http<{ room: RoomInfo }>(app, 'PATCH', `/api/server/rooms/${room.id}`, { token: created.body.key, body });
      const updated = nextEvent<RoomInfo>(socket, 'room:updated');

      const bad = await call({ retentionDays: -5 });
      const set = await call({ retentionDays: 14 });
      await age(room.id, [1, 2], 15);
      await app.retention.sweep();

      expect(bad.status).to.equal(400);
      expect(set.status).to.equal(200);
      expect(set.body.room.retentionDays).to.equal(14);
      expect((await updated).retentionDays).to.equal(14);
      expect(await seqsOf(room.id)).to.deep.equal([3]);
      const audit = await http<{ entries: { action: string; targetId: string; details: Record<string, unknown> }[] }>(app, 'GET', '/api/admin/audit?limit=20', { token: admin.accessToken });
      expect(audit.body.entries.find((e) => e.action === 'room_update' && e.targetId === room.id)?.details).to.include({ retentionDays: 14 });
    });
  });

  describe('one node at a time', () => {
    it('when two nodes sweep at once, then one runs and the other skips, and the messages are deleted once', async () => {
      const [a, b] = [await startNode({ MESSAGE_RATE_LIMIT: '0' }), await startNode({ MESSAGE_RATE_LIMIT: '0' })];
      const { admin, room } = await roomWithMessages(a, 5);
      await setRetention(a, admin, room.id, 30);
      await age(room.id, range(1, 4), 40);
      // Hold the room's row so node a's first batch waits inside its sweep, holding the retention lock.
      const blocker = new pg.Client({ connectionString: environment.get().services.databaseUrl! });
      await blocker.connect();
      try {
        await blocker.query('begin');
        await blocker.query('select id from rooms where id = $1 for update', [room.id]);
        const first = a.retention.sweep();
        await waitFor(async () => (await heldRetentionLocks()) === 1, 5_000, 'node a holds the retention lock');

        const second = await b.retention.sweep();
        await blocker.query('commit');
        const winner = await first;

        expect(second).to.deep.equal({ ran: false, messages: 0, rooms: 0, audit: 0 });
        expect(winner).to.deep.include({ ran: true, messages: 4, rooms: 1 });
        expect(await heldRetentionLocks()).to.equal(0);
        // The lock is free again: the other node's next sweep runs.
        expect(await b.retention.sweep()).to.deep.include({ ran: true, messages: 0 });
      } finally {
        await blocker.end();
      }
      expect(await seqsOf(room.id)).to.deep.equal([5]);
    });

    it('when the test itself holds the retention lock, then no node sweeps until it is released', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0' });
      const { admin, room } = await roomWithMessages(app, 2);
      await setRetention(app, admin, room.id, 30);
      await age(room.id, [1], 40);
      const holder = new pg.Client({ connectionString: environment.get().services.databaseUrl! });
      await holder.connect();
      try {
        await holder.query("select pg_advisory_lock(hashtext('roomcast.retention'))");
        expect((await app.retention.sweep()).ran).to.equal(false);
        expect(await seqsOf(room.id)).to.deep.equal([1, 2]);
        await holder.query("select pg_advisory_unlock(hashtext('roomcast.retention'))");
      } finally {
        await holder.end();
      }
      expect(await app.retention.sweep()).to.deep.include({ ran: true, messages: 1 });
    });
  });

  describe('on the embedded PGlite', () => {
    it('when a sweep runs on a pool of one connection, then its batches use the connection that holds the lock (no wait for a second one)', async function () {
      this.timeout(60_000);
      const database = openDatabase({ url: null, dataDir: null });
      try {
        await migrateToLatest(database);
        const db = database.knex;
        const [user] = (await db('users').insert({ username: 'pglite', email: 'pglite@example.test', password_hash: 'x', role: 'member' }).returning('id')) as { id: string }[];
        const [room] = (await db('rooms').insert({ name: 'old', retention_days: 30, last_seq: 3, last_change: 3 }).returning('id')) as { id: string }[];
        await db('messages').insert(
          [1, 2, 3].map((seq) => ({ room_id: room!.id, seq, change: seq, user_id: user!.id, content: `m${seq}`, client_msg_id: randomUUID(), created_at: db.raw(`now() - make_interval(days => ?)`, [seq === 3 ? 1 : 40]) })),
        );

        const report = await new RetentionSweeper(new RetentionStore(db), { messageDays: 0, auditDays: 0, batchSize: 1 }, testLogger()).sweep();

        expect(report).to.deep.equal({ ran: true, messages: 2, rooms: 1, audit: 0 });
        expect(await db('messages').where('room_id', room!.id).pluck('seq')).to.deep.equal([3]);
      } finally {
        await database.close();
      }
    });
  });

  describe('where history starts', () => {
    it('when retention cut a room, then REST history, room:history and the join answer carry oldestSeq, and paging back ends at it', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' });
      const { admin, member, room, socket } = await roomWithMessages(app, 8);
      const fresh = await roomWithMessages(app, 2);
      await setRetention(app, admin, room.id, 30);
      await age(room.id, range(1, 5), 40);
      await app.retention.sweep();

      const back = await http<HistoryPage>(app, 'GET', `/api/rooms/${room.id}/messages?beforeSeq=8&limit=50`, { token: member.accessToken });
      const latest = await ok<HistoryPage>(socket, 'room:history', { roomId: room.id, limit: 2 });
      const other = await connect(app, { token: (await registerUser(app)).accessToken });
      const joined = await ok<JoinResult>(other, 'room:join', { roomId: room.id });
      const untouched = await http<HistoryPage>(app, 'GET', `/api/rooms/${fresh.room.id}/messages`, { token: fresh.member.accessToken });

      expect(back.body).to.deep.include({ hasMore: false, oldestSeq: 6 });
      expect(back.body.messages.map((m) => m.seq)).to.deep.equal([6, 7]);
      expect(latest).to.deep.include({ hasMore: true, oldestSeq: 6 });
      expect(joined.room).to.include({ oldestSeq: 6, lastSeq: 8, retentionDays: 30 });
      expect(untouched.body.oldestSeq).to.equal(1);
    });
  });

  describe('the change log across a cut', () => {
    it('when a catch-up asks from before what retention kept, then REST and room:changes answer changes_expired with where to refetch, and room:join answers changesExpired', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' });
      const { admin, member, room, socket } = await roomWithMessages(app, 6);
      await setRetention(app, admin, room.id, 30);
      await age(room.id, range(1, 4), 40);
      await app.retention.sweep();

      const rest = await http<ChangesPage>(app, 'GET', `/api/rooms/${room.id}/changes?after=2`, { token: member.accessToken });
      const viaSocket = await request<ChangesPage>(socket, 'room:changes', { roomId: room.id, after: 0 });
      const atCut = await http<ChangesPage>(app, 'GET', `/api/rooms/${room.id}/changes?after=4`, { token: member.accessToken });
      const other = await connect(app, { token: (await registerUser(app)).accessToken });
      const expiredJoin = await ok<JoinResult>(other, 'room:join', { roomId: room.id, afterChange: 3 });
      const third = await connect(app, { token: (await registerUser(app)).accessToken });
      const currentJoin = await ok<JoinResult>(third, 'room:join', { roomId: room.id, afterChange: 4 });

      expect(rest.status).to.equal(410);
      expect(rest.body).to.have.nested.property('error.code', 'changes_expired');
      expect(rest.body).to.have.deep.nested.property('error.details', { oldestSeq: 5, lastChange: 6 });
      expect(errorOf(viaSocket)).to.deep.include({ code: 'changes_expired', details: { oldestSeq: 5, lastChange: 6 } });
      expect(atCut.status).to.equal(200);
      expect(atCut.body.changes.map((m) => m.seq)).to.deep.equal([5, 6]);
      expect(expiredJoin).to.deep.include({ changesExpired: true, lastChange: 6 });
      expect(expiredJoin).to.not.have.property('changes');
      expect(expiredJoin.room.oldestSeq).to.equal(5);
      expect(currentJoin.changes!.map((m) => m.seq)).to.deep.equal([5, 6]);
      expect(currentJoin).to.not.have.property('changesExpired');
    });

    it('when an old message was edited recently, then the cut counts its latest change: a catch-up from before that edit is expired too', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0', EDIT_RATE_LIMIT: '0', HISTORY_RATE_LIMIT: '0' });
      const { admin, member, room, socket } = await roomWithMessages(app, 3);
      const first = (await knex()('messages').where({ room_id: room.id, seq: 1 }).first('id')) as { id: string };
      await ok(socket, 'message:edit', { messageId: first.id, content: 'edited' }); // change 4
      await setRetention(app, admin, room.id, 30);
      await age(room.id, [1], 40);
      await app.retention.sweep();

      const before = await http(app, 'GET', `/api/rooms/${room.id}/changes?after=3`, { token: member.accessToken });
      const after = await http<ChangesPage>(app, 'GET', `/api/rooms/${room.id}/changes?after=4`, { token: member.accessToken });

      expect(before.status).to.equal(410);
      expect(after.status).to.equal(200);
      expect(after.body).to.deep.include({ changes: [], lastChange: 4 });
    });
  });

  describe('what hangs off a deleted message', () => {
    it('when retention deletes messages, then their reactions and mentions go with them, unread and mention counts count only what is left, and a surviving reply keeps its replyToSeq', async () => {
      const app = await startNode({ MESSAGE_RATE_LIMIT: '0', REACTION_RATE_LIMIT: '0' });
      const admin = await registerAdmin(app);
      const alice = await registerUser(app);
      const bob = await registerUser(app);
      const room = await createRoom(app, alice.accessToken);
      const [a, b] = [await connect(app, { token: alice.accessToken }), await connect(app, { token: bob.accessToken })];
      await ok(a, 'room:join', { roomId: room.id });
      await ok(b, 'room:join', { roomId: room.id });
      const m1 = await send(a, room.id, `@${bob.user.username} look`);
      const m2 = await send(a, room.id, 'react to me');
      await ok(b, 'message:react', { messageId: m2.id, emoji: '👍' });
      const reply = await send(a, room.id, 'a reply', { replyToSeq: 1 });
      await send(a, room.id, `@${bob.user.username} again`);
      const before = await listedRoom(app, bob, room.id);
      await setRetention(app, admin, room.id, 30);
      await age(room.id, [1, 2], 40);

      await app.retention.sweep();

      const after = await listedRoom(app, bob, room.id);
      expect([before.unreadCount, before.mentionCount]).to.deep.equal([4, 2]);
      expect([after.unreadCount, after.mentionCount]).to.deep.equal([2, 1]);
      expect(await knex()('message_reactions').where('message_id', m2.id).count<{ count: string }[]>('* as count')).to.deep.equal([{ count: '0' }]);
      expect(await knex()('message_mentions').where({ room_id: room.id }).pluck('seq')).to.deep.equal([4]);
      const history = await http<HistoryPage>(app, 'GET', `/api/rooms/${room.id}/messages?afterSeq=0`, { token: bob.accessToken });
      expect(history.body.messages.map((m) => [m.seq, m.replyToSeq])).to.deep.equal([
        [reply.seq, 1],
        [4, null],
      ]);
      expect(m1.seq).to.equal(1);
    });
  });

  describe('audit retention', () => {
    it('when AUDIT_RETENTION_DAYS is 90, then a sweep deletes the audit entries older than that and keeps the others', async () => {
      const app = await startNode({ AUDIT_RETENTION_DAYS: '90', RETENTION_BATCH_SIZE: '2' });
      const marker = randomUUID();
      const entry = (days: number) => ({ action: 'room_update', target_type: 'room', target_id: marker, details: JSON.stringify({ days }), created_at: knex().raw(`now() - make_interval(days => ?)`, [days]) });
      await knex()('audit_log').insert([entry(200), entry(120), entry(91), entry(89), entry(1)]);

      const report = await app.retention.sweep();

      expect(report.audit).to.equal(3);
      const left = (await knex()('audit_log').where('target_id', marker).orderBy('id').pluck('details')) as { days: number }[];
      expect(left.map((d) => d.days)).to.deep.equal([89, 1]);
    });

    it('when AUDIT_RETENTION_DAYS is unset, then no audit entry is deleted however old', async () => {
      const app = await startNode();
      const marker = randomUUID();
      await knex()('audit_log').insert({ action: 'room_update', target_type: 'room', target_id: marker, created_at: knex().raw(`now() - interval '3000 days'`) });

      expect((await app.retention.sweep()).audit).to.equal(0);
      expect(await knex()('audit_log').where('target_id', marker).pluck('target_id')).to.deep.equal([marker]);
    });
  });
});

/** Advisory locks of the retention sweep granted in this database now. */
async function heldRetentionLocks(): Promise<number> {
  const { rows } = (await knex().raw(
    `select count(*)::int as n from pg_locks l
      where l.locktype = 'advisory' and l.granted and l.database = (select oid from pg_database where datname = current_database())
        and l.objid = (hashtext('roomcast.retention')::bigint & 4294967295)::oid`,
  )) as { rows: { n: number }[] };
  return rows[0]!.n;
}

const errorOf = (ack: Ack<object>) => (ack.ok ? null : ack.error);
