// (b) many small rooms, every member sending: how many messages per second
// get stored (acked after commit), and are every room's seqs gap-free after?
import { expectJson } from '../../test/support/http-json.js';
import { checkSeqsInDatabase, summarize, type RoomSeqs, type SeqCheck } from '../database.js';
import { connectMany, joinAll, nextStepId, pool, ramp, runStep, wireSender, type DeliveryRecorder, type RampResult } from '../load.js';
import type { Sizes } from '../sizes.js';
import type { Account, Target } from '../targets.js';

export interface SmallRoomsResult {
  ramp: RampResult;
  connectSeconds: number;
  /** Time for every socket's room:join. */
  joinSeconds: number;
  /** Roomcast only: the seqs as stored. */
  seqCheck?: SeqCheck & { checkedVia: 'database' | 'api'; ackedTotal: number };
}

export async function runSmallRooms(
  target: Target,
  sizes: Sizes['smallRooms'],
  recorder: DeliveryRecorder,
  databaseUrl: string | null,
): Promise<SmallRoomsResult> {
  const accounts = await target.createAccounts(sizes.users);
  const rooms = await target.createRooms(accounts[0]!, sizes.rooms);
  const sockets = sizes.rooms * sizes.members;
  const { clients, seconds } = await connectMany(target, 0, accounts, sockets, recorder.onFrame);
  const roomOf = (index: number) => rooms[Math.floor(index / sizes.members)]!;
  try {
    const joinStarted = performance.now();
    await joinAll(clients, roomOf);
    const joinSeconds = Math.round(performance.now() - joinStarted) / 1000;
    const senders = clients.map(wireSender);
    const result = await ramp(sizes.ramp, (rate) =>
      runStep({ step: nextStepId(), rate, durationMs: sizes.stepMs, fanout: sizes.members - 1, roomOf, drainMs: sizes.drainMs }, senders, recorder, target.nodes),
    );
    if (target.kind !== 'roomcast') return { ramp: result, connectSeconds: Math.round(seconds * 100) / 100, joinSeconds };
    // Give the last acks a moment, then read what was stored.
    await new Promise((r) => setTimeout(r, 500));
    const ackedTotal = result.steps.reduce((sum, s) => sum + s.acked, 0);
    const check = databaseUrl
      ? { ...(await checkSeqsInDatabase(databaseUrl, rooms)), checkedVia: 'database' as const }
      : { ...(await checkSeqsThroughApi(target.nodes[0]!.url, accounts[0]!, rooms)), checkedVia: 'api' as const };
    return { ramp: result, connectSeconds: Math.round(seconds * 100) / 100, joinSeconds, seqCheck: { ...check, ackedTotal } };
  } finally {
    for (const client of clients) client.close();
  }
}

/** The same check through the REST API, for an embedded database the benchmark cannot reach. */
async function checkSeqsThroughApi(url: string, reader: Account, roomIds: readonly string[]): Promise<SeqCheck> {
  const rooms = await pool(roomIds, 10, async (roomId): Promise<RoomSeqs> => {
    const { room } = await expectJson<{ room: { lastSeq: number } }>(url, 'GET', `/api/rooms/${roomId}`, { token: reader.token, timeoutMs: 30_000 });
    const seqs: number[] = [];
    let after = 0;
    for (let page = 0; page < 10_000; page++) {
      const { messages, hasMore } = await expectJson<{ messages: { seq: number }[]; hasMore: boolean }>(url, 'GET', `/api/rooms/${roomId}/messages?afterSeq=${after}&limit=200`, {
        token: reader.token,
        timeoutMs: 30_000,
      });
      seqs.push(...messages.map((m) => m.seq));
      if (!hasMore || messages.length === 0) break;
      after = messages[messages.length - 1]!.seq;
    }
    return {
      lastSeq: room.lastSeq,
      count: seqs.length,
      distinct: new Set(seqs).size,
      min: seqs.length ? Math.min(...seqs) : null,
      max: seqs.length ? Math.max(...seqs) : null,
    };
  });
  return summarize(rooms);
}
