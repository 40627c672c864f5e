// The load generator: opens sockets, sends messages at a fixed rate, and
// measures acks and deliveries per rate step. Every message carries its step
// and send time in its content (`|step|µs|xxx…`), so a receiver needs no
// JSON parsing: it reads two numbers out of the raw frame.
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { workerFor } from '../server/workers/routing.js';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { cpuSnapshot } from './proc-stats.js';
import type { ServerProcess } from './processes.js';
import { gcShare, usageAfter, usageBefore } from './server-usage.js';
import type { Account, Target } from './targets.js';
import { WireClient } from './wire-client.js';

const MARKER = Buffer.from('"content":"|');
const BAR = 0x7c;

export const now = () => performance.now();

/** Per-step counters that receivers update as frames arrive. */
class StepStats {
  sent = 0;
  acked = 0;
  ackErrors = new Map<string, number>();
  deliveries = 0;
  readonly ack = new LatencyHistogram();
  readonly delivery = new LatencyHistogram();
}

/** Routes every received message:new to the stats of the step it was sent in. */
export class DeliveryRecorder {
  private readonly steps = new Map<number, StepStats>();

  open(step: number): StepStats {
    const stats = new StepStats();
    this.steps.set(step, stats);
    return stats;
  }

  close(step: number): void {
    this.steps.delete(step);
  }

  /** The receiver's whole job: find `"content":"|step|µs|` and record. */
  readonly onFrame = (frame: Buffer): void => {
    const at = frame.indexOf(MARKER);
    if (at < 0) return;
    let i = at + MARKER.length;
    let step = 0;
    for (let c = frame[i]!; c !== BAR; c = frame[++i]!) step = step * 10 + (c - 48);
    let sentUs = 0;
    for (let c = frame[++i]!; c !== BAR; c = frame[++i]!) sentUs = sentUs * 10 + (c - 48);
    const stats = this.steps.get(step);
    if (!stats) return;
    stats.deliveries++;
    stats.delivery.record(now() - sentUs / 1000);
  };
}

/** Something that sends message:send and reports its ack. */
export interface Sender {
  send(payload: { roomId: string; content: string; clientMsgId: string }, onAck: (ack: { ok: boolean; error?: { code: string } }) => void): void;
  close(): void;
}

export function wireSender(client: WireClient): Sender {
  return {
    send: (payload, onAck) => client.emit('message:send', payload, (ack) => onAck(ack as { ok: boolean; error?: { code: string } })),
    close: () => client.close(),
  };
}

/**
 * The loopback addresses clients connect from, in turn. One (the default):
 * 127.0.0.1. With --workers N the primary routes each connection by its
 * client's address, so the clients come from addresses that map to each
 * worker in turn and the load splits evenly (see spreadClients).
 */
let clientAddresses: readonly string[] = [];
let nextClientAddress = 0;

/** From now on, clients connect from addresses spread evenly over `workers` workers (none: 127.0.0.1). */
export function spreadClients(workers: number): void {
  const perWorker: string[][] = Array.from({ length: workers }, () => []);
  for (let host = 1; host < 255 && perWorker.some((list) => list.length < 4); host++) {
    const address = `127.0.0.${host}`;
    const list = perWorker[workerFor(address, workers)]!;
    if (list.length < 4) list.push(address);
  }
  clientAddresses = workers > 1 ? perWorker[0]!.flatMap((_, i) => perWorker.map((list) => list[i]!)) : [];
  nextClientAddress = 0;
}

/** The address the next client connects from; undefined: the system's choice (127.0.0.1). */
export function clientAddress(): string | undefined {
  if (clientAddresses.length === 0) return undefined;
  return clientAddresses[nextClientAddress++ % clientAddresses.length];
}

/** A sender built on socket.io-client (the senders of the fan-out scenarios). */
export async function socketIoSender(url: string, auth: Record<string, unknown> | undefined): Promise<Sender> {
  const localAddress = clientAddress();
  const agent = localAddress ? (new Agent({ localAddress }) as unknown as string) : undefined;
  const socket: Socket = io(`${url}/chat`, { transports: ['websocket'], auth, reconnection: false, timeout: 20_000, ...(agent ? { agent } : {}) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return {
    send: (payload, onAck) => socket.emit('message:send', payload, onAck),
    close: () => socket.disconnect(),
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Opens one /chat socket per entry (accounts reused round-robin); returns them and the time it took. */
export async function connectMany(
  target: Target,
  nodeIndex: number,
  accounts: readonly Account[],
  count: number,
  onEvent?: (frame: Buffer) => void,
  concurrency = 100,
): Promise<{ clients: WireClient[]; seconds: number }> {
  const url = target.nodes[nodeIndex]!.url;
  const started = now();
  const clients = await pool(Array.from({ length: count }, (_, i) => accounts[i % accounts.length]!), concurrency, (account) =>
    WireClient.connect({ url, namespace: '/chat', auth: target.auth(account), onEvent, localAddress: clientAddress() }),
  );
  return { clients, seconds: (now() - started) / 1000 };
}

/** Joins each client to its room; fails loudly on a refused join. */
export async function joinAll(clients: readonly WireClient[], roomOf: (index: number) => string, concurrency = 50): Promise<void> {
  await pool(clients, concurrency, async (client, i) => {
    const ack = await client.request<{ ok: boolean; error?: { code: string } }>('room:join', { roomId: roomOf(i) });
    if (!ack.ok) throw new Error(`room:join failed: ${ack.error?.code}`);
  });
}

export interface StepPlan {
  step: number;
  /** Messages per second, all senders together. */
  rate: number;
  durationMs: number;
  /** Deliveries each message should make. */
  fanout: number;
  /** Room of each message, by sender index. */
  roomOf: (senderIndex: number) => string;
  /** Longest wait for late acks and deliveries after sending stops. */
  drainMs: number;
}

export interface StepResult {
  rate: number;
  seconds: number;
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  deliveries: number;
  expectedDeliveries: number;
  deliveryRatio: number;
  deliveriesPerSec: number;
  ackedPerSec: number;
  ack: LatencySummary;
  delivery: LatencySummary;
  serverCpuPercent: number | null;
  /** Main-thread GC pause time of the servers in the step (ms). */
  serverGcMs: number | null;
  /** serverGcMs / server CPU time, in %: the share of the server's CPU that went to V8's garbage collector. */
  serverGcPercent: number | null;
  /** The load generator's own CPU: near 100 % means the figures are bound by it, not by the server. */
  generatorCpuPercent: number;
  serverCpuUsPerDelivery: number | null;
  databaseCpuUsPerDelivery: number | null;
  /** Passed: delivery p99 < 50 ms, nothing missing, no failed ack. */
  sustained: boolean;
}

const P99_LIMIT_MS = 50;

/**
 * Sends `rate` messages per second for `durationMs`, round-robin over the
 * senders, then waits (bounded) for the acks and deliveries to come in.
 */
export async function runStep(plan: StepPlan, senders: readonly Sender[], recorder: DeliveryRecorder, servers: readonly ServerProcess[]): Promise<StepResult> {
  const serverPids = servers.flatMap((s) => s.pids());
  await quiet(serverPids);
  const stats = recorder.open(plan.step);
  const padding = 'x'.repeat(100);
  const before = await usageBefore(servers);
  const generatorBefore = process.cpuUsage();
  const started = now();
  const total = Math.max(1, Math.round((plan.rate * plan.durationMs) / 1000));
  let next = 0;
  const onAck = (sentAt: number) => (ack: { ok: boolean; error?: { code: string } }) => {
    if (ack.ok) {
      stats.acked++;
      stats.ack.record(now() - sentAt);
    } else {
      const code = ack.error?.code ?? 'unknown';
      stats.ackErrors.set(code, (stats.ackErrors.get(code) ?? 0) + 1);
    }
  };
  // Send what is due every 2 ms: an even rate without a timer per message.
  while (next < total) {
    const elapsed = now() - started;
    const due = Math.min(total, Math.floor((elapsed / 1000) * plan.rate) + 1);
    for (; next < due; next++) {
      const senderIndex = next % senders.length;
      const sentAt = now();
      const head = `|${plan.step}|${Math.round(sentAt * 1000)}|`;
      senders[senderIndex]!.send(
        { roomId: plan.roomOf(senderIndex), content: head + padding.slice(head.length), clientMsgId: randomUUID() },
        onAck(sentAt),
      );
      stats.sent++;
    }
    if (elapsed > plan.durationMs * 3) break; // the generator itself fell behind: stop, bounded
    await new Promise((r) => setTimeout(r, 2));
  }
  const sendSeconds = (now() - started) / 1000;
  const expected = stats.sent * plan.fanout;
  // Drain: until everything arrived, nothing moved for 500 ms, or drainMs passed.
  const drainDeadline = now() + plan.drainMs;
  let last = -1;
  let lastChange = now();
  while (now() < drainDeadline && (stats.deliveries < expected || stats.acked + errorCount(stats) < stats.sent)) {
    const progress = stats.deliveries + stats.acked;
    if (progress !== last) {
      last = progress;
      lastChange = now();
    } else if (now() - lastChange > 500) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const generator = process.cpuUsage(generatorBefore);
  const after = await usageAfter(servers);
  recorder.close(plan.step);

  const delivery = stats.delivery.summary();
  const ack = stats.ack.summary();
  const serverCpu = before.server !== null && after.server !== null ? after.server - before.server : null;
  const databaseCpu = before.database !== null && after.database !== null ? after.database - before.database : null;
  const wall = (after.at - before.at) / 1000;
  const perDelivery = (cpu: number | null) => (cpu !== null && stats.deliveries > 0 ? (cpu * 1e6) / stats.deliveries : null);
  const ratio = expected > 0 ? stats.deliveries / expected : 1;
  const gc = gcShare(before, after);
  return {
    rate: plan.rate,
    seconds: round(sendSeconds, 2),
    sent: stats.sent,
    acked: stats.acked,
    ackErrors: Object.fromEntries(stats.ackErrors),
    deliveries: stats.deliveries,
    expectedDeliveries: expected,
    deliveryRatio: round(ratio, 4),
    deliveriesPerSec: Math.round(stats.deliveries / sendSeconds),
    ackedPerSec: Math.round(stats.acked / sendSeconds),
    ack,
    delivery,
    serverCpuPercent: serverCpu !== null ? round((serverCpu / wall) * 100, 1) : null,
    serverGcMs: gc.gcMs,
    serverGcPercent: gc.gcPercent,
    generatorCpuPercent: round(((generator.user + generator.system) / 1e6 / wall) * 100, 1),
    serverCpuUsPerDelivery: roundOrNull(perDelivery(serverCpu), 2),
    databaseCpuUsPerDelivery: roundOrNull(perDelivery(databaseCpu), 2),
    sustained: ratio >= 1 && stats.acked === stats.sent && (delivery.p99 ?? Infinity) < P99_LIMIT_MS,
  };
}

/** Waits (at most 5 s) until the servers are nearly idle: a failed step's backlog must not weigh on the next. */
export async function quiet(serverPids: readonly number[]): Promise<void> {
  const deadline = now() + 5_000;
  let last = cpuSnapshot(serverPids);
  while (now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const next = cpuSnapshot(serverPids);
    if (last.server === null || next.server === null) return;
    const busy = (next.server - last.server) / ((next.at - last.at) / 1000);
    if (busy < 0.1) return;
    last = next;
  }
}

const errorCount = (stats: StepStats) => [...stats.ackErrors.values()].reduce((a, b) => a + b, 0);
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const roundOrNull = (value: number | null, digits: number) => (value === null ? null : round(value, digits));

export interface RampOptions {
  startRate: number;
  factor: number;
  maxSteps: number;
  /** Bisection steps between the last passing and the first failing rate. */
  refineSteps: number;
  maxRate: number;
}

export interface RampResult {
  steps: StepResult[];
  /** Highest rate (msgs/s) that passed, or 0. */
  sustainedRate: number;
  /** Deliveries/s at that rate. */
  sustainedDeliveriesPerSec: number;
}

let stepCounter = 0;
export const nextStepId = () => ++stepCounter;

/**
 * Raises the rate by `factor` until a rate fails (p99 ≥ 50 ms, something
 * missing or refused, twice in a row), then bisects a few times between
 * pass and fail.
 */
export async function ramp(options: RampOptions, run: (rate: number) => Promise<StepResult>, pauseAfterFailureMs = 1_000): Promise<RampResult> {
  const steps: StepResult[] = [];
  // A rate fails only if it fails twice: on a shared 2-core VM one stall of
  // ~100 ms (a neighbour, a GC) is enough to push one step's p99 past 50 ms,
  // and both servers get the same second chance.
  const attempt = async (rate: number): Promise<boolean> => {
    for (let tries = 0; tries < 2; tries++) {
      if (steps.at(-1)?.sustained === false) await new Promise((r) => setTimeout(r, pauseAfterFailureMs)); // let a failed step's backlog clear
      const result = await run(rate);
      steps.push(result);
      if (result.sustained) return true;
    }
    return false;
  };
  let pass = 0;
  let fail = 0;
  let rate = options.startRate;
  for (let i = 0; i < options.maxSteps && rate <= options.maxRate; i++) {
    if (!(await attempt(rate))) {
      fail = rate;
      break;
    }
    pass = rate;
    rate = Math.round(rate * options.factor);
  }
  // Even the first rate failed: step down until one passes, so there is a figure to compare.
  for (let i = 0; i < options.refineSteps && pass === 0 && fail > 1; i++) {
    rate = Math.max(1, Math.round(fail / options.factor));
    if (await attempt(rate)) pass = rate;
    else fail = rate;
  }
  for (let i = 0; i < options.refineSteps && fail > 0 && pass > 0; i++) {
    const middle = Math.round(Math.sqrt(pass * fail));
    if (middle <= pass || middle >= fail) break;
    if (await attempt(middle)) pass = middle;
    else fail = middle;
  }
  const best = steps.filter((s) => s.sustained && s.rate === pass)[0];
  return { steps, sustainedRate: pass, sustainedDeliveriesPerSec: best ? best.deliveriesPerSec : 0 };
}
