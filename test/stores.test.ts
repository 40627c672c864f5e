// The same store tests on the embedded PGlite and on a real PostgreSQL: one
// store implementation must behave alike on both.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { MessageStore, type AppendOutcome, type PendingMessage } from '../db/stores/message-store.js';
import { MuteStore } from '../db/stores/mute-store.js';
import { ReadStore } from '../db/stores/read-store.js';
import { RoomStore } from '../db/stores/room-store.js';
import { TokenStore } from '../db/stores/token-store.js';
import { DuplicateUserError, UserStore, type UserRecord } from '../db/stores/user-store.js';
import type { Room } from '../server/protocol.js';
import { environment } from './support/environment.js';
import { createMigratedDatabase, recordSkip } from './support/services.js';
import { uniqueName } from './support/util.js';

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`stores on ${kind}`, function () {
    this.timeout(60_000);
    let database: Database;
    let users: UserStore;
    let rooms: RoomStore;
    let messages: MessageStore;
    let tokens: TokenStore;
    let mutes: MuteStore;

    before(async function () {
      let url: string | null = null;
      if (kind === 'postgres') {
        // DATABASE_URL, or the PostgreSQL testcontainers started for this run.
        const server = process.env.DATABASE_URL ?? environment.get().services.databaseUrl;
        if (!server) {
          recordSkip('stores on postgres', 'DATABASE_URL (PostgreSQL)');
          this.skip();
        }
        url = await createMigratedDatabase(environment.get().services);
      }
      database = openDatabase({ url, dataDir: null, poolSize: 10 });
      await migrateToLatest(database);
      users = new UserStore(database.knex);
      rooms = new RoomStore(database.knex);
      messages = new MessageStore(database.knex);
      tokens = new TokenStore(database.knex);
      mutes = new MuteStore(database.knex);
    });
    after(async () => {
      await database?.close();
    });

    if (kind === 'postgres') {
      it('when pooled connections open, then each runs without JIT and with generic plans (the batch statement is planned once)', async () => {
        // Three transactions at once hold three different pooled connections.
        const settings = await Promise.all(
          [1, 2, 3].map(() =>
            database.knex.transaction(async (trx) => {
              const { rows } = await trx.raw("select pg_backend_pid() as pid, current_setting('jit') as jit, current_setting('plan_cache_mode') as mode");
              await new Promise((resolve) => setTimeout(resolve, 50));
              return rows[0] as { pid: number; jit: string; mode: string };
            }),
          ),
        );

        expect(new Set(settings.map((s) => s.pid)).size).to.equal(3);
        for (const s of settings) expect(s).to.include({ jit: 'off', mode: 'force_generic_plan' });
      });
    }

    const newUser = (name = uniqueName()) => users.create({ username: name, email: `${name}@example.test`, passwordHash: 'not-a-real-hash' });
    const newRoom = (creator: UserRecord, options: Partial<{ visibility: 'public' | 'private'; readOnly: boolean }> = {}) =>
      rooms.create({ name: uniqueName('room'), visibility: options.visibility ?? 'public', readOnly: options.readOnly ?? false, createdBy: creator.id });
    const pending = (user: UserRecord, room: Room, content = 'hi', clientMsgId = randomUUID()): PendingMessage => ({
      roomId: room.id,
      userId: user.id,
      username: user.username,
      role: user.role,
      content,
      clientMsgId,
    });
    const seqOf = (outcome: AppendOutcome) => (outcome.status === 'rejected' ? outcome.reason : outcome.message.seq);

    describe('MessageStore.appendBatch', () => {
      it('when batches mix rooms, then each room’s seqs run 1, 2, 3… with no gaps across batches', async () => {
        const alice = await newUser();
        const a = await newRoom(alice);
        const b = await newRoom(alice);

        const first = await messages.appendBatch([pending(alice, a), pending(alice, b), pending(alice, a), pending(alice, a), pending(alice, b)]);
        const second = await messages.appendBatch([pending(alice, b), pending(alice, a)]);

        expect(first.map(seqOf)).to.deep.equal([1, 1, 2, 3, 2]);
        expect(second.map(seqOf)).to.deep.equal([3, 4]);
        expect(first.every((o) => o.status === 'stored')).to.equal(true);
        expect((await rooms.findById(a.id))!.lastSeq).to.equal(4);
        const stored = first[0]!.status === 'stored' ? first[0]!.message : null;
        expect(stored!.id).to.be.a('string').and.match(/^[1-9]\d*$/);
        expect(stored).to.include({ roomId: a.id, userId: alice.id, username: alice.username, content: 'hi', deleted: false, editedAt: null });
      });

      it('when a clientMsgId repeats inside a batch or across batches, then the original answers and no seq is spent', async () => {
        const alice = await newUser();
        const room = await newRoom(alice);
        const id = randomUUID();

        const first = await messages.appendBatch([pending(alice, room, 'one', id), pending(alice, room, 'two'), pending(alice, room, 'one again', id)]);
        const again = await messages.appendBatch([pending(alice, room, 'once more', id), pending(alice, room, 'three')]);

        expect(first.map((o) => o.status)).to.deep.equal(['stored', 'stored', 'duplicate']);
        expect(again.map((o) => o.status)).to.deep.equal(['duplicate', 'stored']);
        const original = first[0]!.status === 'stored' ? first[0]!.message : null;
        for (const outcome of [first[2]!, again[0]!]) expect(outcome.status !== 'rejected' && outcome.message).to.deep.equal(original);
        expect(again.map(seqOf)).to.deep.equal([1, 3]);
      });

      it('when the same clientMsgId comes from two users, then both are stored', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const room = await newRoom(alice);
        const id = randomUUID();
        const outcomes = await messages.appendBatch([pending(alice, room, 'a', id), pending(bob, room, 'b', id)]);
        expect(outcomes.map((o) => o.status)).to.deep.equal(['stored', 'stored']);
      });

      it('when many batches over the same rooms run at once, then seqs are exactly 1..N per room', async () => {
        const alice = await newUser();
        const a = await newRoom(alice);
        const b = await newRoom(alice);
        const batches = Array.from({ length: 8 }, (_, i) =>
          Array.from({ length: 10 }, (_, n) => pending(alice, (i + n) % 2 === 0 ? a : b, `${i}-${n}`)),
        );

        const results = (await Promise.all(batches.map((batch) => messages.appendBatch(batch)))).flat();

        for (const room of [a, b]) {
          const seqs = results.flatMap((o) => (o.status === 'stored' && o.message.roomId === room.id ? [o.message.seq] : [])).sort((x, y) => x - y);
          expect(seqs).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
          const history = await messages.history(room.id, { afterSeq: 0, limit: 200 });
          expect(history.messages.map((m) => m.seq)).to.deep.equal(seqs);
        }
      });

      it('when the rules forbid a message, then it is rejected with its reason and spends no seq', async () => {
        const admin = await newUser();
        await users.update(admin.id, { role: 'admin' });
        const adminUser = { ...admin, role: 'admin' as const };
        const member = await newUser();
        const insider = await newUser();
        const open = await newRoom(adminUser);
        const hidden = await newRoom(adminUser, { visibility: 'private' });
        await rooms.addMember(hidden.id, insider.id);
        const readOnly = await newRoom(adminUser, { readOnly: true });
        const archived = await newRoom(adminUser);
        await rooms.update(archived.id, { archived: true });
        await mutes.set(open.id, member.id, 5);
        const absent = { ...open, id: randomUUID() };

        const outcomes = await messages.appendBatch([
          pending(member, hidden),
          pending(insider, hidden),
          pending(adminUser, hidden),
          pending(member, readOnly),
          pending(adminUser, readOnly),
          pending(adminUser, archived),
          pending(member, archived),
          pending(member, open),
          pending(insider, open),
          pending(member, absent),
        ]);

        expect(outcomes.map(seqOf)).to.deep.equal([
          'room_not_found',
          1,
          2,
          'read_only',
          1,
          'archived',
          'archived',
          'muted',
          1,
          'room_not_found',
        ]);
        await mutes.set(open.id, member.id, 0);
        expect((await messages.appendBatch([pending(member, open)])).map(seqOf)).to.deep.equal([2]);
      });
    });

    describe('MessageStore.history', () => {
      it('when asked by afterSeq, beforeSeq or neither, then it answers the window oldest first with hasMore', async () => {
        const alice = await newUser();
        const room = await newRoom(alice);
        await messages.appendBatch(Array.from({ length: 12 }, (_, i) => pending(alice, room, `m${i + 1}`)));
        const window = async (options: { afterSeq?: number; beforeSeq?: number; limit: number }) => {
          const page = await messages.history(room.id, options);
          return [page.messages.map((m) => m.seq), page.hasMore];
        };

        expect(await window({ limit: 5 })).to.deep.equal([[8, 9, 10, 11, 12], true]);
        expect(await window({ limit: 12 })).to.deep.equal([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], false]);
        expect(await window({ afterSeq: 0, limit: 3 })).to.deep.equal([[1, 2, 3], true]);
        expect(await window({ afterSeq: 9, limit: 3 })).to.deep.equal([[10, 11, 12], false]);
        expect(await window({ beforeSeq: 6, limit: 3 })).to.deep.equal([[3, 4, 5], true]);
        expect(await window({ beforeSeq: 4, limit: 3 })).to.deep.equal([[1, 2, 3], false]);
        expect(await window({ afterSeq: 12, limit: 3 })).to.deep.equal([[], false]);
      });

      it('when a message is deleted, then it keeps its seq and comes back deleted with empty content', async () => {
        const alice = await newUser();
        const room = await newRoom(alice);
        const [outcome] = await messages.appendBatch([pending(alice, room, 'secret')]);
        const id = outcome!.status === 'stored' ? outcome!.message.id : '';
        await messages.change(id, alice.id, { kind: 'delete' }, () => undefined);
        const { messages: page } = await messages.history(room.id, { limit: 10 });
        expect(page).to.have.length(1);
        expect(page[0]).to.include({ id, seq: 1, deleted: true, content: '' });
      });
    });

    describe('MessageStore.changes (change log)', () => {
      it('when messages are stored, edited and deleted, then each change takes the room’s next number and a page answers the latest states in change order', async () => {
        const alice = await newUser();
        const room = await newRoom(alice);
        const outcomes = await messages.appendBatch([pending(alice, room, 'a'), pending(alice, room, 'b'), pending(alice, room, 'c')]);
        const [a, b] = outcomes.map((o) => (o.status === 'stored' ? o.message : null)!);
        const edited = await messages.change(a!.id, alice.id, { kind: 'edit', content: 'a2' }, () => undefined);
        const deleted = await messages.change(b!.id, alice.id, { kind: 'delete' }, () => undefined);
        const [later] = await messages.appendBatch([pending(alice, room, 'd')]);
        const view = async (after: number, limit: number, upTo?: number) => {
          const page = (await messages.changes(room.id, { after, limit, ...(upTo === undefined ? {} : { upTo }) }))!;
          return [page.changes.map((m) => [m.seq, m.change, m.content, m.deleted]), page.hasMore, page.lastChange];
        };

        expect(outcomes.map((o) => o.status === 'stored' && o.message.change)).to.deep.equal([1, 2, 3]);
        expect([edited!.message.change, deleted!.message.change, later!.status === 'stored' && later!.message.change]).to.deep.equal([4, 5, 6]);
        expect(await view(0, 10)).to.deep.equal([[[3, 3, 'c', false], [1, 4, 'a2', false], [2, 5, '', true], [4, 6, 'd', false]], false, 6]);
        expect(await view(3, 2)).to.deep.equal([[[1, 4, 'a2', false], [2, 5, '', true]], true, 6]);
        expect(await view(0, 10, 4)).to.deep.equal([[[3, 3, 'c', false], [1, 4, 'a2', false]], false, 6]);
        expect(await view(6, 10)).to.deep.equal([[], false, 6]);
        expect(await messages.changes(randomUUID(), { after: 0, limit: 10 })).to.equal(null);
      });
    });

    describe('UserStore', () => {
      it('when looked up by username or email in another letter case, then the user is found', async () => {
        const name = `CaseUser_${randomBytes(3).toString('hex')}`;
        const created = await newUser(name);
        expect((await users.findByLogin(name.toLowerCase()))?.id).to.equal(created.id);
        expect((await users.findByLogin(`${name}@EXAMPLE.TEST`.toUpperCase()))?.id).to.equal(created.id);
        expect((await users.findByUsername(name.toUpperCase()))?.id).to.equal(created.id);
        expect(await users.findByLogin(`${name}x`)).to.equal(null);
      });

      it('when a username or email differs only in case, then create throws DuplicateUserError naming the field', async () => {
        const name = uniqueName('Dup');
        await newUser(name);
        const byName = await users.create({ username: name.toUpperCase(), email: `${uniqueName()}@example.test`, passwordHash: 'x' }).catch((e: unknown) => e);
        const byEmail = await users.create({ username: uniqueName(), email: `${name}@example.test`.toUpperCase(), passwordHash: 'x' }).catch((e: unknown) => e);
        expect(byName).to.be.instanceOf(DuplicateUserError).and.have.property('field', 'username');
        expect(byEmail).to.be.instanceOf(DuplicateUserError).and.have.property('field', 'email');
      });
    });

    describe('TokenStore', () => {
      const insertToken = async (user: UserRecord, expiresAt = new Date(Date.now() + 60_000)) => {
        const hash = randomBytes(32).toString('hex');
        const record = await tokens.insert({ userId: user.id, familyId: randomUUID(), tokenHash: hash, client: 'native', expiresAt });
        return { hash, record };
      };

      it('when a token is rotated, then it is spent, names its replacement, and the replacement carries on its login family', async () => {
        const alice = await newUser();
        const { hash, record } = await insertToken(alice);
        const nextHash = randomBytes(32).toString('hex');

        const result = await tokens.rotate(hash, { tokenHash: nextHash, expiresAt: new Date(Date.now() + 60_000) });

        if (result.status !== 'ok') expect.fail(`rotate answered ${result.status}`);
        expect(result.next).to.include({ userId: alice.id, familyId: record.familyId, client: 'native' });
        const spent = await database.knex('refresh_tokens').where({ id: record.id }).first();
        expect(spent.used_at).to.not.equal(null);
        expect(spent.replaced_by).to.equal(result.next.id);
        expect(await tokens.findByHash(nextHash)).to.deep.include({ id: result.next.id, familyId: record.familyId });
      });

      it('when one token is rotated by many callers at once, then exactly one replacement exists', async () => {
        const alice = await newUser();
        const { hash, record } = await insertToken(alice);
        const results = await Promise.all(
          Array.from({ length: 6 }, () => tokens.rotate(hash, { tokenHash: randomBytes(32).toString('hex'), expiresAt: new Date(Date.now() + 60_000) })),
        );
        expect(results.map((r) => r.status).sort()).to.deep.equal(['ok', 'reused', 'reused', 'reused', 'reused', 'reused']);
        const family = await database.knex('refresh_tokens').where({ family_id: record.familyId });
        expect(family).to.have.length(2);
      });

      it('when a token is expired, revoked or unknown, then rotate answers invalid and stores no replacement', async () => {
        const alice = await newUser();
        const expired = await insertToken(alice, new Date(Date.now() - 1_000));
        const revoked = await insertToken(alice);
        await tokens.revokeFamily(revoked.record.familyId);
        const rotate = (hash: string) => tokens.rotate(hash, { tokenHash: randomBytes(32).toString('hex'), expiresAt: new Date(Date.now() + 60_000) });
        expect((await rotate(expired.hash)).status).to.equal('invalid');
        expect((await rotate(revoked.hash)).status).to.equal('invalid');
        expect((await rotate('unknown')).status).to.equal('invalid');
        // The login is over for the token check too (UserStore.findWithLogin, what every handshake reads).
        expect((await users.findWithLogin(alice.id, revoked.record.familyId))?.loginLive).to.equal(false);
        const families = [expired.record.familyId, revoked.record.familyId];
        expect(await database.knex('refresh_tokens').whereIn('family_id', families)).to.have.length(2);
      });
    });

    describe('ReadStore and the unread count', () => {
      it('when one user advances a read seq from many callers at once, then the highest wins, its call reports the move, and no answer is below what its call asked', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const room = await newRoom(alice);
        await rooms.addMember(room.id, bob.id);
        for (let i = 0; i < 6; i++) await messages.appendBatch([pending(alice, room)]);
        const reads = new ReadStore(database.knex);

        const asked = [3, 6, 1, 5, 2, 4];
        const results = await Promise.all(asked.map((seq) => reads.advance(room.id, bob.id, seq)));
        // The call with 6 always moves it (nothing is higher); every answer is at least what its call asked.
        expect(results[asked.indexOf(6)]).to.deep.equal({ readSeq: 6, moved: true });
        results.forEach((r, i) => expect(r.readSeq).to.be.at.least(asked[i]!));
        expect(await reads.advance(room.id, bob.id, 2)).to.deep.equal({ readSeq: 6, moved: false });
        expect((await reads.listMembers(room.id, { limit: 10 })).reads).to.deep.equal([{ userId: bob.id, username: bob.username, readSeq: 6 }]);
      });

      it('when the viewer has read part of a room, then listVisible counts the rest but their own and deleted messages', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const room = await newRoom(alice);
        await rooms.addMember(room.id, bob.id);
        // Seqs 1-5: alice, alice, bob (the viewer), alice, alice (deleted below).
        for (const user of [alice, alice, bob, alice, alice]) await messages.appendBatch([pending(user, room)]);
        await database.knex('messages').where({ room_id: room.id, seq: 5 }).update({ deleted_at: new Date() });
        await new ReadStore(database.knex).advance(room.id, bob.id, 1);

        const { rooms: listed } = await rooms.listVisible({ userId: bob.id, isAdmin: false }, { limit: 200 });
        expect(listed.find((r) => r.id === room.id)).to.include({ lastSeq: 5, readSeq: 1, unreadCount: 2, readReceipts: false });
      });
    });
  });
}
