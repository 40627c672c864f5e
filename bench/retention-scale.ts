// Retention at scale (issue 19, docs/capacity.md "Retention at scale"):
// builds a scratch database with the project's migrations, fills messages
// with ROWS generated rows (default 10 M: ROOMS rooms of equal size, created
// over 100 days in seq order), then times, through the stores' own SQL, one
// retention batch, a sweep's due-room scan and history pages, with EXPLAIN
// ANALYZE of each, and drops the database. Not part of `npm run bench`: it
// loads the machine for minutes.
//   npx tsx bench/retention-scale.ts            (ROWS=10000000 ROOMS=10000 BATCH=1000)
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDatabase, dropDatabase } from '../db/databases.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { MessageStore } from '../db/stores/message-store.js';
import { ROOM_BATCH_SQL, ROOMS_DUE_SQL, RetentionStore } from '../db/stores/retention-store.js';

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.env.ROWS ?? 10_000_000);
const ROOMS = Number(process.env.ROOMS ?? 10_000);
const BATCH = Number(process.env.BATCH ?? 1000);
const PER_ROOM = Math.floor(ROWS / ROOMS);
const NAME = 'retention_scratch';

const log = (...parts: unknown[]) => console.log(new Date().toISOString().slice(11, 19), ...parts);
const ms = (t0: number) => Math.round((performance.now() - t0) * 100) / 100;
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

async function timed(label: string, runs: number, body: (i: number) => Promise<unknown>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await body(i);
    times.push(ms(t0));
  }
  log(`${label}: median ${quantile(times, 0.5)} ms, p95 ${quantile(times, 0.95)} ms, max ${Math.max(...times)} ms (${runs} runs)`);
}

async function explain(client: pg.Client, label: string, sql: string, values: unknown[]): Promise<void> {
  // Numbered placeholders for pg, in the order of knex's `?`.
  let n = 0;
  const text = sql.replace(/\?(?!\|)/g, () => `$${++n}`);
  await client.query('begin');
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off) ${text}`, values);
  await client.query('rollback');
  log(`EXPLAIN ANALYZE ${label}:\n${rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n')}`);
}

await dropDatabase(BASE_URL, NAME).catch(() => {});
const url = await createDatabase(BASE_URL, NAME);
const database = openDatabase({ url, dataDir: null, poolSize: 4 });
const client = new pg.Client({ connectionString: url });
try {
  await migrateToLatest(database);
  await client.connect();
  log(`generating ${ROOMS} rooms × ${PER_ROOM} messages = ${ROOMS * PER_ROOM} rows`);
  const t0 = performance.now();
  await client.query(`insert into users (username, email, password_hash, role)
                      select 'u' || i, 'u' || i || '@example.test', 'x', 'member' from generate_series(1, 1000) i`);
  await client.query(`insert into rooms (name, last_seq, last_change, retention_days)
                      select 'room ' || i, ${PER_ROOM}, ${PER_ROOM}, 30 from generate_series(1, ${ROOMS}) i`);
  // Indexes are built after the load (as a restore would), FK triggers off for the load only.
  const { rows: indexes } = await client.query<{ name: string; def: string; constraint: boolean }>(
    `select i.relname as name, pg_get_indexdef(i.oid) as def, c.oid is not null as constraint
       from pg_index x join pg_class i on i.oid = x.indexrelid
       left join pg_constraint c on c.conindid = i.oid and c.contype = 'u'
      where x.indrelid = 'messages'::regclass and not x.indisprimary`,
  );
  for (const index of indexes) await client.query(index.constraint ? `alter table messages drop constraint ${index.name}` : `drop index ${index.name}`);
  await client.query('set session_replication_role = replica');
  await client.query(`insert into messages (room_id, seq, change, user_id, content, client_msg_id, created_at, reply_to_seq)
                      select r.id, s, s, u.id, 'message ' || s || ' of a generated room, about sixty bytes long',
                             gen_random_uuid(), now() - interval '100 days' * (1 - s::float / ${PER_ROOM}),
                             case when s % 10 = 0 then s - 1 end
                        from (select id, row_number() over (order by id) as n from rooms) r
                        cross join generate_series(1, ${PER_ROOM}) s
                        join lateral (select id from users order by id offset (r.n % 1000) limit 1) u on true`);
  await client.query('set session_replication_role = origin');
  log(`loaded in ${Math.round(ms(t0) / 1000)} s; building indexes`);
  for (const index of indexes) {
    await client.query(index.def);
    if (index.constraint) await client.query(`alter table messages add constraint ${index.name} unique using index ${index.name}`);
  }
  await client.query('vacuum analyze messages');
  await client.query('vacuum analyze rooms');
  const { rows: size } = await client.query<{ rows: string; table: string; total: string }>(
    `select (select count(*) from messages)::text as rows, pg_size_pretty(pg_relation_size('messages')) as table, pg_size_pretty(pg_total_relation_size('messages')) as total`,
  );
  log(`ready after ${Math.round(ms(t0) / 1000)} s: ${size[0]!.rows} rows, table ${size[0]!.table}, with indexes ${size[0]!.total}`);
  // B-tree depth decides how a probe's cost grows with the table (one page per level).
  await client.query('create extension if not exists pgstattuple');
  const { rows: trees } = await client.query<{ name: string; levels: number; size: string }>(
    `select i.relname as name, (pgstatindex(i.oid::regclass)).tree_level as levels, pg_size_pretty(pg_relation_size(i.oid)) as size
       from pg_index x join pg_class i on i.oid = x.indexrelid where x.indrelid = 'messages'::regclass order by i.relname`,
  );
  for (const tree of trees) log(`index ${tree.name}: ${tree.size}, tree level ${tree.levels}`);
  const { rows: load } = await client.query<{ load: string }>("select 'load average ' || split_part(pg_read_file('/proc/loadavg'), ' ', 1) as load").catch(() => ({ rows: [{ load: 'load average unknown' }] }));
  log(load[0]!.load);

  const rooms = (await client.query<{ id: string }>('select id from rooms order by id')).rows.map((r) => r.id);
  const retention = new RetentionStore(database.knex);
  const messages = new MessageStore(database.knex);
  const pick = (i: number) => rooms[(i * 7919) % rooms.length]!;

  // History on the full table (before any retention).
  await timed('history: latest page of 50', 50, (i) => messages.history(pick(i), { limit: 50 }, null));
  await timed('history: beforeSeq page of 50 in the middle', 50, (i) => messages.history(pick(i + 100), { beforeSeq: PER_ROOM / 2, limit: 50 }, null));
  await timed('history: afterSeq page of 200 (catch-up)', 50, (i) => messages.history(pick(i + 200), { afterSeq: PER_ROOM - 300, limit: 200 }, null));
  await explain(client, 'history page (latest 50)', 'select m.*, u.username from messages m join users u on u.id = m.user_id where m.room_id = ? order by m.seq desc limit 51', [rooms[0]]);

  // The sweep's scan for due rooms: one probe per room.
  await timed(`due-room scan, page of 100 of ${ROOMS} rooms`, 10, () => retention.roomsDue(0, null, 100));
  await timed(`due-room scan over all ${ROOMS} rooms`, 3, () => retention.roomsDue(0, null, ROOMS));
  await explain(client, 'due-room scan (page of 100)', ROOMS_DUE_SQL, ['00000000-0000-0000-0000-000000000000', 0, 0, 100]);

  // Retention batches: a 30-day retention over 100 days of messages: 70 % is due.
  await explain(client, `one retention batch of ${BATCH} (rolled back)`, ROOM_BATCH_SQL, [0, rooms[1], 0, BATCH, rooms[1], rooms[1], rooms[1]]);
  await timed(`retention batch of ${BATCH} rows, one room each`, 40, (i) => retention.deleteRoomBatch(pick(i + 300), 0, BATCH));
  const t1 = performance.now();
  let deleted = 0;
  for (let i = 0; i < 100; i++) deleted += (await retention.deleteRoomBatch(pick(i + 400), 0, BATCH)).deleted;
  const seconds = ms(t1) / 1000;
  log(`sustained: ${deleted} rows in ${seconds.toFixed(1)} s = ${Math.round(deleted / seconds)} rows/s on one connection`);

  // History again, on rooms just cut (dead index entries before vacuum) and after a vacuum.
  await timed('history: latest page of 50 in rooms just cut', 40, (i) => messages.history(pick(i + 300), { limit: 50 }, null));
  await timed('history: oldest page (afterSeq 0) in rooms just cut, before vacuum', 40, (i) => messages.history(pick(i + 300), { afterSeq: 0, limit: 50 }, null));
  await client.query('vacuum messages');
  await timed('history: oldest page (afterSeq 0) in rooms just cut, after vacuum', 40, (i) => messages.history(pick(i + 300), { afterSeq: 0, limit: 50 }, null));
} finally {
  await client.end().catch(() => {});
  await database.close();
  await dropDatabase(BASE_URL, NAME);
  log('scratch database dropped');
}
