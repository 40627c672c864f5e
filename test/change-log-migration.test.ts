// Issue 13's migration on a database that already holds messages: built with
// the previous migration set, filled the way the previous version wrote it
// (edited and deleted messages included), then migrated to the latest.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { dropDatabase } from '../db/databases.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest, migrationConfig } from '../db/migrate.js';
import { MessageStore } from '../db/stores/message-store.js';
import { environment } from './support/environment.js';
import { createFreshDatabase, recordSkip } from './support/services.js';
import { uniqueName } from './support/util.js';

/** The last migration before the change log. */
const PREVIOUS_LAST = '20261130000002_rooms_listing_index.ts';

/** The project's migration files up to and including `last`. */
function migrationsUpTo(last: string): Knex.MigrationSource<unknown> {
  const all = migrationConfig.migrationSource!;
  return {
    getMigrations: async (extensions) => (await all.getMigrations(extensions)).filter((file) => all.getMigrationName(file) <= last),
    getMigrationName: (file) => all.getMigrationName(file),
    getMigration: (file) => all.getMigration(file),
  };
}

interface OldMessage {
  id: string;
  room_id: string;
  seq: number;
  content: string;
  edited_at: Date | null;
  deleted_at: Date | null;
}

describe('change log migration (20261130100001_change_log)', function () {
  this.timeout(60_000);
  let serverUrl: string | undefined;
  let url: string;
  let database: Database;

  before(async function () {
    serverUrl = process.env.DATABASE_URL ?? environment.get().services.databaseUrl ?? undefined;
    if (!serverUrl) {
      recordSkip('change log migration', 'DATABASE_URL (PostgreSQL)');
      this.skip();
    }
    url = await createFreshDatabase(serverUrl);
    database = openDatabase({ url, dataDir: null, poolSize: 4 });
  });
  after(async () => {
    await database?.close();
    if (serverUrl && url) await dropDatabase(serverUrl, new URL(url).pathname.slice(1)).catch(() => {});
  });

  it('when a database of the previous version holds messages (edited and deleted too), then after migrating every message is kept, numbered change = seq, and each room counts on from its last', async () => {
    const knex = database.knex;
    await knex.migrate.latest({ ...migrationConfig, migrationSource: migrationsUpTo(PREVIOUS_LAST) });
    expect(await knex.schema.hasColumn('messages', 'change')).to.equal(false);

    // Arrange: the rows as the previous version wrote them.
    const [alice, bob] = await knex('users')
      .insert([uniqueName(), uniqueName()].map((username) => ({ username, email: `${username}@example.test`, password_hash: 'x', role: 'member' })))
      .returning('id');
    const rooms = await knex('rooms')
      .insert(['busy', 'quiet', 'empty'].map((name) => ({ name, created_by: alice!.id })))
      .returning('id');
    const [busy, quiet, empty] = rooms.map((r: { id: string }) => r.id);
    const rows = [
      ...Array.from({ length: 7 }, (_, i) => ({ room_id: busy, seq: i + 1, user_id: i % 2 ? alice!.id : bob!.id, content: `b${i + 1}` })),
      ...Array.from({ length: 3 }, (_, i) => ({ room_id: quiet, seq: i + 1, user_id: alice!.id, content: `q${i + 1}` })),
    ].map((row) => ({ ...row, client_msg_id: randomUUID() }));
    await knex('messages').insert(rows);
    await knex('rooms').where({ id: busy }).update({ last_seq: 7 });
    await knex('rooms').where({ id: quiet }).update({ last_seq: 3 });
    await knex('messages').where({ room_id: busy, seq: 2 }).update({ content: 'b2 edited', edited_at: knex.fn.now() });
    await knex('messages').where({ room_id: busy, seq: 5 }).update({ content: '', deleted_at: knex.fn.now() });
    await knex('messages').where({ room_id: quiet, seq: 3 }).update({ content: 'q3 edited', edited_at: knex.fn.now() });
    const before = (await knex('messages').select('id', 'room_id', 'seq', 'content', 'edited_at', 'deleted_at').orderBy('id')) as OldMessage[];

    // Act
    await migrateToLatest(database);

    // Assert: nothing lost or altered, every message numbered by its seq, the counters at the top.
    const after = (await knex('messages').select('id', 'room_id', 'seq', 'content', 'edited_at', 'deleted_at', 'change').orderBy('id')) as (OldMessage & { change: string })[];
    expect(after.map(({ change: _change, ...old }) => old)).to.deep.equal(before);
    expect(after.every((m) => Number(m.change) === m.seq)).to.equal(true);
    const counters = Object.fromEntries(
      ((await knex('rooms').select('id', 'last_change')) as { id: string; last_change: string }[]).map((r) => [r.id, Number(r.last_change)]),
    );
    expect([counters[busy!], counters[quiet!], counters[empty!]]).to.deep.equal([7, 3, 0]);

    // The log reads them back (tombstone included), and new changes count on without a gap or a clash.
    const messages = new MessageStore(knex);
    const page = await messages.changes(busy!, { after: 0, limit: 100 });
    expect(page!.changes.map((m) => [m.seq, m.change, m.content, m.deleted])).to.deep.equal([
      [1, 1, 'b1', false],
      [2, 2, 'b2 edited', false],
      [3, 3, 'b3', false],
      [4, 4, 'b4', false],
      [5, 5, '', true],
      [6, 6, 'b6', false],
      [7, 7, 'b7', false],
    ]);
    const [sent] = await messages.appendBatch([{ roomId: busy!, userId: alice!.id, username: 'alice', role: 'member', content: 'after', clientMsgId: randomUUID() }]);
    expect(sent!.status === 'stored' && [sent!.message.seq, sent!.message.change]).to.deep.equal([8, 8]);
    const edited = await messages.change(page!.changes[0]!.id, alice!.id, { kind: 'edit', content: 'b1 now' }, () => null);
    expect([edited!.message.seq, edited!.message.change]).to.deep.equal([1, 9]);
    const emptyPage = await messages.changes(empty!, { after: 0, limit: 10 });
    expect(emptyPage).to.deep.equal({ changes: [], hasMore: false, lastChange: 0 });
  });
});
