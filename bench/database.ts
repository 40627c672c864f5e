// The benchmark's own PostgreSQL database: created fresh for a run, checked
// for gap-free seqs at the end, dropped afterwards.
import { createDatabase, dropDatabase, withClient } from '../db/databases.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates an empty database on the server of `baseUrl`; returns its URL. */
export function createBenchDatabase(baseUrl: string): Promise<string> {
  return createDatabase(baseUrl, `roomcast_bench_${Date.now()}_${process.pid}`);
}

export function dropBenchDatabase(baseUrl: string, databaseUrl: string): Promise<void> {
  return dropDatabase(baseUrl, new URL(databaseUrl).pathname.slice(1));
}

export interface SeqCheck {
  rooms: number;
  messages: number;
  /** Rooms whose seqs are not exactly 1..last_seq, each once. */
  roomsWithGaps: number;
  gapFree: boolean;
}

/** Every room's messages must carry seqs 1..last_seq with no gap and no repeat. */
export async function checkSeqsInDatabase(databaseUrl: string, roomIds: readonly string[]): Promise<SeqCheck> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ last_seq: number; n: number; distinct_seqs: number; min_seq: number | null; max_seq: number | null }>(
      `select r.last_seq, count(m.id)::int as n, count(distinct m.seq)::int as distinct_seqs, min(m.seq) as min_seq, max(m.seq) as max_seq
         from rooms r left join messages m on m.room_id = r.id
        where r.id = any($1::uuid[])
        group by r.id, r.last_seq`,
      [roomIds],
    );
    return summarize(rows.map((r) => ({ lastSeq: Number(r.last_seq), count: r.n, distinct: r.distinct_seqs, min: r.min_seq, max: r.max_seq })));
  });
}

/** One room's seqs in brief. */
export interface RoomSeqs {
  lastSeq: number;
  count: number;
  distinct: number;
  min: number | null;
  max: number | null;
}

export function summarize(rooms: readonly RoomSeqs[]): SeqCheck {
  let messages = 0;
  let roomsWithGaps = 0;
  for (const room of rooms) {
    messages += room.count;
    const ok =
      room.count === room.lastSeq && room.distinct === room.count && (room.count === 0 || (Number(room.min) === 1 && Number(room.max) === room.count));
    if (!ok) roomsWithGaps++;
  }
  return { rooms: rooms.length, messages, roomsWithGaps, gapFree: roomsWithGaps === 0 };
}
