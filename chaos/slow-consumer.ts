// The slow-consumer row: one SDK client stops reading (a TCP proxy in front
// of it stops taking the node's bytes) while its room floods. The node must
// cut it loose (MAX_SOCKET_BUFFER_BYTES) with its memory bounded, the other
// receivers must not slow down, and the slow client must end with every
// message once it reads again.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'socket.io-client';
import { createClient, type Message } from '../client-sdk/src/index.js';
import type { ChaosEnv } from './environment.js';
import type { FaultRow, FaultSettings } from './faults.js';
import { fetchHistory } from './invariants.js';
import { startTcpProxy } from './tcp-proxy.js';
import { emitAck, rawSocket, register, sleep, type Registered } from './wire.js';

/** Messages per flood (two floods: with the slow client reading, then stalled); ~3.5 KB each, so one flood outgrows the kernel's socket buffers. */
const FLOOD = 3_000;
const PADDING = 'x'.repeat(3_500);
/** Small enough that a stalled client passes it within one flood. */
const MAX_SOCKET_BUFFER_BYTES = 512 * 1024;
const RECEIVERS = 3;
const MiB = 1024 * 1024;

/** The resident set of a process, from /proc (Linux), in bytes; NaN where there is none. */
function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function p99(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/** Sends `count` messages stamped with their send time, 50 in flight; returns how many were acked. */
async function flood(sender: Socket, roomId: string, count: number, tag: string): Promise<number> {
  let next = 0;
  let acked = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const outcome = await emitAck(sender, 'message:send', { roomId, content: `${Date.now()} ${tag}${i} ${PADDING}`, clientMsgId: randomUUID() }, 15_000);
      if (outcome.kind === 'ack' && outcome.ack.ok) acked++;
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  return acked;
}

/** A raw receiver: every message:new with its delivery latency (send stamp to arrival). */
function receiver(socket: Socket): { seqs: number[]; latencies: number[] } {
  const seen = { seqs: [] as number[], latencies: [] as number[] };
  socket.on('message:new', (m: Message) => {
    seen.seqs.push(m.seq);
    seen.latencies.push(Date.now() - Number(m.content.slice(0, m.content.indexOf(' '))));
  });
  return seen;
}

const duplicates = (seqs: number[]) => seqs.length - new Set(seqs).size;

export async function slowConsumer(env: ChaosEnv, _s: FaultSettings): Promise<FaultRow> {
  const databaseUrl = await env.freshDatabase('slow');
  const node = await env.startNode('chaos-slow', { DATABASE_URL: databaseUrl, MAX_SOCKET_BUFFER_BYTES: String(MAX_SOCKET_BUFFER_BYTES) });
  const proxy = await startTcpProxy(Number(new URL(node.url).port));
  const sockets: Socket[] = [];
  const slow = createClient({ url: `http://127.0.0.1:${proxy.port}`, transports: ['websocket'], reconnect: { minDelayMs: 50, maxDelayMs: 500 } });
  try {
    const pid = node.child.process.pid!;
    const owner: Registered = await register(node.url, 'slowowner');
    const room = await fetch(`${node.url}/api/rooms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'slow consumer room' }),
    }).then((r) => r.json() as Promise<{ room: { id: string } }>);
    const roomId = room.room.id;
    const join = async (socket: Socket) => {
      const outcome = await emitAck(socket, 'room:join', { roomId }, 10_000);
      if (outcome.kind !== 'ack' || !outcome.ack.ok) throw new Error('room:join failed');
      sockets.push(socket);
      return socket;
    };
    const sender = await join(await rawSocket(node.url, owner.token));
    const receivers = [];
    for (let i = 0; i < RECEIVERS; i++) receivers.push(receiver(await join(await rawSocket(node.url, (await register(node.url, 'slowrx')).token))));
    const name = `slow_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    await slow.register({ username: name, email: `${name}@chaos.test`, password: `pw-${name}-secret` });
    const slowSeen: number[] = [];
    const reasons: string[] = [];
    slow.on('state', (change) => reasons.push(String(change.reason)));
    (await slow.join(roomId)).on('message', (m) => slowSeen.push(m.seq));

    const rssBefore = rssOf(pid);
    // Without a slow client: everybody reads.
    const ackedA = await flood(sender, roomId, FLOOD, 'a');
    await sleep(500);
    const latenciesA = receivers.flatMap((r) => r.latencies.splice(0));
    // With one: the proxy takes nothing from the node for the slow client.
    proxy.setMode({ kind: 'stall' });
    let rssPeak = rssOf(pid);
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(pid))), 100);
    const ackedB = await flood(sender, roomId, FLOOD, 'b');
    await sleep(1_000); // the guard checks every 250 ms
    clearInterval(sampler);
    const latenciesB = receivers.flatMap((r) => r.latencies.splice(0));
    const resumedAt = Date.now();
    proxy.setMode({ kind: 'pass' });
    const total = ackedA + ackedB;
    const deadline = Date.now() + 60_000;
    while (slowSeen.length < total && Date.now() < deadline) await sleep(100);
    const recoveryMs = slowSeen.length >= total ? Date.now() - resumedAt : Number.NaN;
    await sleep(300); // anything late and duplicated would show up now
    const rssAfter = rssOf(pid);

    const history = await fetchHistory(node.url, owner.token, roomId);
    const historySeqs = history.map((m) => m.seq);
    const lists = [...receivers.map((r) => r.seqs), slowSeen];
    const divergent = lists.filter((seqs) => seqs.length !== historySeqs.length || seqs.some((seq, i) => seq !== historySeqs[i])).length;
    const duplicated = lists.reduce((n, seqs) => n + duplicates(seqs), 0);
    const p99A = p99(latenciesA);
    const p99B = p99(latenciesB);
    const violations: string[] = [];
    if (history.length !== total) violations.push(`${total} acked, ${history.length} stored`);
    if (divergent) violations.push(`${divergent} receivers' messages differ from the history`);
    if (!reasons.includes('slow_consumer')) violations.push(`the slow client was not cut as slow_consumer (reasons: ${reasons.join(', ')})`);
    if (Number.isNaN(recoveryMs)) violations.push(`the slow client had ${slowSeen.length} of ${total} messages 60 s after reading again`);
    if (rssPeak - rssBefore > 128 * MiB) violations.push(`the node's RSS grew by ${Math.round((rssPeak - rssBefore) / MiB)} MiB`);
    // Generous: the machine is shared; a node buffering for the slow client would stall far beyond it.
    if (p99B > 3 * p99A + 250) violations.push(`other receivers' delivery p99 went from ${p99A} ms to ${p99B} ms`);
    if (node.child.exited()) violations.push('the node exited');
    return {
      fault: 'slow consumer (stalled TCP) while its room floods',
      acked: total,
      rejected: 2 * FLOOD - total,
      stored: history.length,
      delivered: lists.reduce((n, seqs) => n + seqs.length, 0),
      lost: Math.max(0, total - history.length),
      duplicated,
      unresolved: 0,
      divergent,
      violations,
      recoveryMs: Math.round(recoveryMs),
      facts: {
        rssBeforeMiB: Math.round(rssBefore / MiB),
        rssPeakMiB: Math.round(rssPeak / MiB),
        rssAfterMiB: Math.round(rssAfter / MiB),
        receiverP99MsWithout: p99A,
        receiverP99MsWith: p99B,
        slowClientFinalCount: slowSeen.length,
        messages: total,
        maxSocketBufferBytes: MAX_SOCKET_BUFFER_BYTES,
      },
    };
  } finally {
    slow.close();
    for (const socket of sockets) socket.close();
    await proxy.close();
    await node.child.stop('SIGTERM', 10_000);
  }
}
