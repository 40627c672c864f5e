// Cost probe for the hot paths (issue 18): one Roomcast node on 127.0.0.1,
// a fixed number of JWT connects and a fixed number of sends into small
// rooms, and for each phase the node's CPU time, GCs and allocated bytes
// (see server-probe.mjs) per connect and per send. Counts, not rates, so
// two commits compare on a machine others are loading.
//
//   node --import tsx scripts/cost-probe/run.ts [--connects 2000] [--rooms 100] [--members 3] [--sends 60] [--window 4] [--repeat 3] [--sample] [--cpu-prof DIR]
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { checkSeqsInDatabase, createBenchDatabase, DEFAULT_DATABASE_URL, dropBenchDatabase } from '../../bench/database.js';
import { connectMany, joinAll } from '../../bench/load.js';
import { startRoomcast, type Target } from '../../bench/targets.js';
import { withClient } from '../../db/databases.js';
import type { WireClient } from '../../bench/wire-client.js';

const { values } = parseArgs({
  options: {
    connects: { type: 'string', default: '2000' },
    rooms: { type: 'string', default: '100' },
    members: { type: 'string', default: '3' },
    sends: { type: 'string', default: '60' },
    window: { type: 'string', default: '4' },
    repeat: { type: 'string', default: '3' },
    sample: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const connects = Number(values.connects);
const roomCount = Number(values.rooms);
const members = Number(values.members);
const sendsPerSocket = Number(values.sends);
const window = Number(values.window);
const repeat = Number(values.repeat);

interface Figures {
  userMicros: number;
  systemMicros: number;
  gcs: number;
  scavenges: number;
  gcMicros: number;
  allocatedBytes: number;
  retainedBytes: number;
}

const baseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const databaseUrl = await createBenchDatabase(baseUrl);
const out = join(mkdtempSync(join(tmpdir(), 'cost-probe-')), 'phase');
const preload = fileURLToPath(new URL('./server-probe.mjs', import.meta.url));
let phases = 0;
let target: Target | null = null;

const commits = () =>
  withClient(databaseUrl, async (c) => Number((await c.query(`select xact_commit from pg_stat_database where datname = current_database()`)).rows[0].xact_commit));

async function measure(work: () => Promise<void>): Promise<Figures & { transactions: number }> {
  const pid = target!.nodes[0]!.pid;
  const before = await commits();
  process.kill(pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 50));
  await work();
  process.kill(pid, 'SIGUSR2');
  const file = `${out}.${++phases}`;
  for (let i = 0; i < 2400 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 25));
  const figures = JSON.parse(readFileSync(file, 'utf8')) as Figures;
  // The probe's own two statistics reads are one transaction each.
  return { ...figures, transactions: (await commits()) - before - 1 };
}

function perOp(f: Figures & { transactions: number }, ops: number) {
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    cpuMicros: round((f.userMicros + f.systemMicros) / ops),
    allocatedBytes: Math.round(f.allocatedBytes / ops),
    // For the connect phase, measured while the sockets are still open: heap per open socket.
    retainedBytes: Math.round(f.retainedBytes / ops),
    // GC pauses are wall time (they stretch when the machine is loaded), so only their count is reported.
    gcs: f.gcs,
    transactions: round(f.transactions / ops),
  };
}

/** Every socket sends `sendsPerSocket` messages, `window` unacknowledged at a time; resolves when all are acked and delivered. */
function sendAll(clients: readonly WireClient[], roomOf: (i: number) => string, onDone: () => void): Promise<{ acked: number; failed: number }> {
  let acked = 0;
  let failed = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`send phase: ${acked + failed} acks within 120 s`)), 120_000);
    let open = clients.length;
    clients.forEach((client, i) => {
      let sent = 0;
      let settled = 0;
      const next = () => {
        if (sent >= sendsPerSocket) return;
        sent++;
        client.emit('message:send', { roomId: roomOf(i), content: `cost probe message ${sent} of socket ${i}`, clientMsgId: randomUUID() }, (ack) => {
          if ((ack as { ok: boolean }).ok) acked++;
          else failed++;
          if (++settled === sendsPerSocket && --open === 0) {
            clearTimeout(timer);
            onDone();
            resolve({ acked, failed });
          } else next();
        });
      };
      for (let k = 0; k < window; k++) next();
    });
  });
}

try {
  target = await startRoomcast({ databaseUrl, nodeFlags: ['--import', preload, ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [])], env: { COST_PROBE_OUT: out, COST_PROBE_SAMPLE: values.sample ? '1' : '0' } });
  const accounts = await target.createAccounts(20);
  const rooms = await target.createRooms(accounts[0]!, roomCount);
  const roomOf = (i: number) => rooms[Math.floor(i / members)]!;
  let delivered = 0;
  const { clients } = await connectMany(target, 0, accounts, roomCount * members, () => delivered++);
  await joinAll(clients, roomOf);
  const results: Record<string, unknown>[] = [];
  // The first round warms the JIT and the pools and is not reported.
  for (let round = 0; round <= repeat; round++) {
    let opened: WireClient[] = [];
    const connect = await measure(async () => {
      opened = (await connectMany(target!, 0, accounts, connects)).clients;
    });
    for (const c of opened) c.close();
    await new Promise((r) => setTimeout(r, 500));
    delivered = 0;
    const sends = clients.length * sendsPerSocket;
    let outcome = { acked: 0, failed: 0 };
    const send = await measure(async () => {
      outcome = await sendAll(clients, roomOf, () => undefined);
      // Let the fan-out of the last batch reach the sockets.
      for (let i = 0; i < 100 && delivered < sends * (members - 1); i++) await new Promise((r) => setTimeout(r, 20));
    });
    if (outcome.failed > 0 || delivered !== sends * (members - 1)) throw new Error(`round ${round}: ${outcome.failed} failed, ${delivered} of ${sends * (members - 1)} delivered`);
    if (round > 0) results.push({ round, connect: perOp(connect, connects), send: perOp(send, sends) });
  }
  const seqs = await checkSeqsInDatabase(databaseUrl, rooms);
  for (const r of results) console.log(JSON.stringify(r));
  console.log(JSON.stringify({ gapFree: seqs.gapFree, messages: seqs.messages, ...(values.sample ? { profiles: `${out}.<phase>.heapprofile` } : {}) }));
  for (const c of clients) c.close();
} finally {
  await target?.stop();
  await dropBenchDatabase(baseUrl, databaseUrl);
}
