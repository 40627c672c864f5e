// The fault scenarios. Each starts its own nodes on a fresh database, drives
// SDK clients that send continuously, injects one fault, and returns a row
// for the summary table: the invariant tally plus the recovery time and the
// fault's own checks (as violations).
import { randomUUID } from 'node:crypto';
import type { NodeProcess } from '../test/support/processes.js';
import { startBalancer } from './balancer.js';
import type { ChaosEnv } from './environment.js';
import { check, fetchHistory, type Tally } from './invariants.js';
import { Load } from './load.js';
import { startTcpProxy } from './tcp-proxy.js';
import { WebhookReceiver } from '../test/support/webhook-receiver.js';
import { answerOf, call, emitAck, rawSocket, register, sleep } from './wire.js';

export interface FaultSettings {
  /** Traffic before the fault and after recovery, ms. */
  warmMs: number;
  afterMs: number;
  clients: number;
  intervalMs: number;
  pgDownMs: number;
  redisDownMs: number;
  hangMs: number;
}

export const QUICK_FAULTS: FaultSettings = { warmMs: 1_500, afterMs: 1_000, clients: 4, intervalMs: 40, pgDownMs: 3_000, redisDownMs: 10_000, hangMs: 6_000 };
export const FULL_FAULTS: FaultSettings = { warmMs: 5_000, afterMs: 8_000, clients: 8, intervalMs: 20, pgDownMs: 8_000, redisDownMs: 30_000, hangMs: 12_000 };

export interface FaultRow extends Tally {
  fault: string;
  /** ms from the fault (or its end) until every client had an ack again and had seen everything acked before it. */
  recoveryMs: number;
  /** Facts measured on the way (exit codes, probe timings, …). */
  facts: Record<string, number | string | boolean>;
}

/** The ack timeout the contract's SDK uses; a send must be answered within it. */
const SDK_ACK_TIMEOUT_MS = 10_000;

/**
 * Waits until every client has an ack stamped after `since` and has seen every
 * message acked before `since`; returns the ms that took (bounded).
 */
async function recovery(load: Load, since: number, timeoutMs = 60_000): Promise<number> {
  const deadline = since + timeoutMs;
  for (;;) {
    const doneAt = load.clients.map((c) => {
      const firstAck = c.acked.find((a) => a.at > since);
      if (!firstAck) return null;
      const before = new Set(load.clients.flatMap((o) => o.acked.filter((a) => a.at <= since).map((a) => a.message.id)));
      const seenAll = c.seen.filter((s) => before.has(s.message.id));
      if (seenAll.length < before.size) return null;
      const lastSeen = Math.max(since, ...seenAll.map((s) => s.at));
      return Math.max(firstAck.at, lastSeen);
    });
    if (doneAt.every((t) => t !== null)) return Math.max(...(doneAt as number[])) - since;
    if (Date.now() > deadline) return Number.NaN;
    await sleep(50);
  }
}

/** Stops the load, waits until every client saw the whole history, and checks the invariants. */
export async function settle(load: Load, survivor: string, token: string): Promise<Tally> {
  await load.stop(60_000);
  let history = await fetchHistory(survivor, token, load.roomId);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && load.clients.some((c) => c.seen.length < history.length)) {
    await sleep(100);
    history = await fetchHistory(survivor, token, load.roomId);
  }
  await sleep(300); // anything late and duplicated would show up now
  history = await fetchHistory(survivor, token, load.roomId);
  return check(load, history);
}

interface Pair {
  a: NodeProcess;
  b: NodeProcess;
  prefix: string;
  /** The environment both nodes started with (a replacement node needs the same). */
  common: Record<string, string>;
}

async function startPair(env: ChaosEnv, label: string, extra: Record<string, string> = {}): Promise<Pair> {
  const databaseUrl = await env.freshDatabase(label);
  const prefix = `chaos-${label}-${randomUUID().slice(0, 8)}`;
  const common = { DATABASE_URL: databaseUrl, REDIS_URL: `redis://127.0.0.1:${env.redisPort}`, REDIS_KEY_PREFIX: prefix, ...extra };
  // One at a time: two cold starts at once take long on a small machine (and the longer a start, the likelier its free port is taken meanwhile).
  const a = await env.startNode(`chaos-${label}-a`, common);
  const b = await env.startNode(`chaos-${label}-b`, common);
  return { a, b, prefix, common };
}

/** The fault's load over both nodes: half the clients start on each, with the other node to fail over to. */
function loadOnPair(pair: Pair, s: FaultSettings, tag: string): Promise<Load> {
  const urls = Array.from({ length: s.clients }, (_, i) => (i % 2 === 0 ? [pair.a.url, pair.b.url] : [pair.b.url, pair.a.url]));
  return Load.start({ urls, intervalMs: s.intervalMs }, tag);
}

function row(fault: string, tally: Tally, recoveryMs: number, facts: FaultRow['facts'], extraViolations: string[]): FaultRow {
  const violations = [...tally.violations, ...extraViolations];
  if (Number.isNaN(recoveryMs)) violations.push('did not recover within 60 s');
  return { fault, ...tally, violations, recoveryMs: Math.round(recoveryMs), facts };
}

/** kill -9 of one of two nodes under load. */
export async function killNode(env: ChaosEnv, s: FaultSettings): Promise<FaultRow> {
  const pair = await startPair(env, 'kill9');
  const load = await loadOnPair(pair, s, 'k9');
  const observer = await register(pair.b.url, 'obs');
  try {
    load.run();
    await sleep(s.warmMs);
    const t0 = Date.now();
    pair.a.child.process.kill('SIGKILL');
    const rec = await recovery(load, t0);
    await sleep(s.afterMs);
    const tally = await settle(load, pair.b.url, observer.token);
    const extra: string[] = [];
    if (pair.b.child.exited()) extra.push('the surviving node exited');
    const moved = load.clients.filter((c) => c.client.state === 'connected').length;
    if (moved !== load.clients.length) extra.push(`${load.clients.length - moved} clients not connected at the end`);
    return row('kill -9 one of two nodes', tally, rec, { killedSignal: String(pair.a.child.exited()?.signal), clientsConnected: moved }, extra);
  } finally {
    load.close();
  }
}

/** SIGTERM of one of two nodes under load: it drains and exits 0 within 10 s. */
export async function sigtermNode(env: ChaosEnv, s: FaultSettings): Promise<FaultRow> {
  const pair = await startPair(env, 'sigterm');
  const load = await loadOnPair(pair, s, 'st');
  const observer = await register(pair.b.url, 'obs');
  try {
    load.run();
    await sleep(s.warmMs);
    const t0 = Date.now();
    const stopped = pair.a.child.stop('SIGTERM', 15_000).then(() => Date.now() - t0);
    const rec = await recovery(load, t0);
    const exitMs = await stopped;
    await sleep(s.afterMs);
    const tally = await settle(load, pair.b.url, observer.token);
    const exit = pair.a.child.exited();
    const extra: string[] = [];
    if (exit?.code !== 0) extra.push(`the stopped node exited with ${exit?.code ?? exit?.signal}, not 0`);
    if (exitMs > 10_000) extra.push(`the stopped node took ${exitMs} ms to exit (limit 10 s)`);
    if (pair.b.child.exited()) extra.push('the surviving node exited');
    return row('SIGTERM one of two nodes', tally, rec, { exitCode: String(exit?.code), exitMs }, extra);
  } finally {
    load.close();
  }
}

/** PostgreSQL stopped under load and started again. */
export async function restartPostgres(env: ChaosEnv, s: FaultSettings): Promise<FaultRow> {
  const pair = await startPair(env, 'pg');
  const load = await loadOnPair(pair, s, 'pg');
  const observer = await register(pair.a.url, 'obs');
  const roomId = load.roomId;
  const probe = await rawSocket(pair.a.url, observer.token);
  const extra: string[] = [];
  const facts: FaultRow['facts'] = {};
  try {
    const joined = await emitAck(probe, 'room:join', { roomId }, 5_000);
    if (joined.kind !== 'ack' || !joined.ack.ok) throw new Error('probe could not join');
    load.run();
    await sleep(s.warmMs);
    await env.pg.stop();
    const downAt = Date.now();
    let probes = 0;
    let slowest = 0;
    let readyChecked = false;
    while (Date.now() - downAt < s.pgDownMs) {
      const out = await emitAck(probe, 'message:send', { roomId, content: `probe-down-${probes}`, clientMsgId: randomUUID() }, SDK_ACK_TIMEOUT_MS);
      probes++;
      slowest = Math.max(slowest, out.ms);
      if (out.kind !== 'ack') extra.push(`a send while PostgreSQL was down got no ack (${out.kind} after ${Math.round(out.ms)} ms)`);
      else if (answerOf(out.ack) !== 'unavailable') extra.push(`a send while PostgreSQL was down answered ${JSON.stringify(out.ack).slice(0, 120)}`);
      if (!readyChecked) {
        readyChecked = true;
        for (const node of [pair.a, pair.b]) {
          const ready = await call(node.url, 'GET', '/readyz');
          if (ready.status !== 503) extra.push(`/readyz answered ${ready.status} while PostgreSQL was down`);
        }
      }
      await sleep(250);
    }
    facts.downProbes = probes;
    facts.slowestDownAckMs = Math.round(slowest);
    await env.pg.start();
    const t0 = Date.now();
    let firstOk = Number.NaN;
    for (let i = 0; i < 200 && Date.now() - t0 < 30_000; i++) {
      const out = await emitAck(probe, 'message:send', { roomId, content: `probe-up-${i}`, clientMsgId: randomUUID() }, SDK_ACK_TIMEOUT_MS);
      if (out.kind === 'ack' && out.ack.ok) {
        firstOk = Date.now() - t0;
        break;
      }
      await sleep(50);
    }
    facts.firstAckAfterRestartMs = firstOk;
    if (!(firstOk <= 5_000)) extra.push(`first successful ack came ${firstOk} ms after PostgreSQL was back (limit 5 s)`);
    const rec = await recovery(load, t0);
    await sleep(s.afterMs);
    probe.close();
    const tally = await settle(load, pair.a.url, observer.token);
    for (const node of [pair.a, pair.b]) if (node.child.exited()) extra.push(`${node.child.name} exited`);
    return row('PostgreSQL restarted', tally, rec, facts, extra);
  } finally {
    probe.close();
    load.close();
  }
}

/**
 * Webhooks under kill -9 and a PostgreSQL restart: an endpoint subscribed to
 * message.created while both nodes take load; node a is killed, then
 * PostgreSQL is stopped and started again. Every stored message of the room
 * must reach the receiver (0 events lost), repeats only under the same
 * webhook-id, and the room's events in seq order.
 */
export async function webhooksUnderFaults(env: ChaosEnv, s: FaultSettings): Promise<FaultRow> {
  const receiver = await new WebhookReceiver().start();
  const pair = await startPair(env, 'webhooks', { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '1000', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '3000', WEBHOOK_SUBSCRIPTION_REFRESH_MS: '200' });
  // The first user of the fresh database is its admin.
  const admin = await register(pair.b.url, 'adm');
  const hook = await call<{ secret: string }>(pair.b.url, 'POST', '/api/admin/webhooks', { token: admin.token, body: { url: receiver.url, events: ['message.created'] } });
  if (hook.status !== 201) throw new Error(`webhook registration answered ${hook.status}: ${hook.text}`);
  const load = await loadOnPair(pair, s, 'wh');
  const extra: string[] = [];
  const facts: FaultRow['facts'] = {};
  try {
    load.run();
    await sleep(s.warmMs);
    pair.a.child.process.kill('SIGKILL');
    const t0 = Date.now();
    await sleep(s.warmMs);
    await env.pg.stop();
    await sleep(s.pgDownMs);
    await env.pg.start();
    const rec = await recovery(load, t0);
    await sleep(s.afterMs);
    const tally = await settle(load, pair.b.url, admin.token);
    const history = await fetchHistory(pair.b.url, admin.token, load.roomId);
    const deadline = Date.now() + 60_000;
    const receivedIds = () => new Set(receiver.received.map((r) => String(r.event.data.id)));
    while (Date.now() < deadline && history.some((m) => !receivedIds().has(m.id))) await sleep(100);
    const got = receivedIds();
    const lost = history.filter((m) => !got.has(m.id));
    if (lost.length) extra.push(`${lost.length} stored messages never reached the webhook (first: seq ${lost[0]!.seq})`);
    const webhookIdOf = new Map<string, string>();
    let repeats = 0;
    for (const r of receiver.received) {
      const messageId = String(r.event.data.id);
      const known = webhookIdOf.get(messageId);
      if (known && known !== r.id) extra.push(`message ${messageId} came under two webhook-ids`);
      if (known) repeats++;
      webhookIdOf.set(messageId, r.id);
    }
    const seqs = receiver.distinct().filter((r) => r.event.data.roomId === load.roomId).map((r) => Number(r.event.data.seq));
    if (seqs.some((seq, i) => i > 0 && seq < seqs[i - 1]!)) extra.push('the room\'s webhooks arrived out of seq order');
    if (!receiver.allVerify(hook.body.secret)) extra.push('a webhook signature did not verify');
    if (pair.b.child.exited()) extra.push('the surviving node exited');
    facts.webhooks = got.size;
    facts.stored = history.length;
    facts.repeats = repeats;
    facts.webhooksLost = lost.length;
    return row('webhooks: kill -9 and PostgreSQL restart', tally, rec, facts, extra);
  } finally {
    load.close();
    await receiver.stop();
  }
}

/** Redis stopped under load on two nodes, then started again. */
export async function stopRedis(env: ChaosEnv, s: FaultSettings): Promise<FaultRow> {
  const pair = await startPair(env, 'redis');
  const load = await loadOnPair(pair, s, 'rd');
  const observer = await register(pair.a.url, 'obs');
  const extra: string[] = [];
  const facts: FaultRow['facts'] = {};
  try {
    load.run();
    await sleep(s.warmMs);
    await env.redis.stop('SIGTERM', 5_000);
    const downAt = Date.now();
    await sleep(s.redisDownMs);
    // Same-node delivery went on: clients on node A saw messages other node-A clients sent during the outage.
    const onA = load.clients.filter((c) => c.home === pair.a.url);
    const sentOnADuring = new Set(onA.flatMap((c) => c.acked.filter((a) => a.at > downAt).map((a) => a.message.id)));
    const liveDuring = onA.reduce((n, c) => n + c.seen.filter((m) => m.at > downAt && sentOnADuring.has(m.message.id)).length, 0);
    facts.sameNodeDeliveredDuringOutage = liveDuring;
    facts.ackedDuringOutage = load.clients.reduce((n, c) => n + c.acked.filter((a) => a.at > downAt).length, 0);
    if (liveDuring === 0) extra.push('no same-node delivery during the Redis outage');
    for (const node of [pair.a, pair.b]) if (node.child.exited()) extra.push(`${node.child.name} exited during the outage`);
    await env.restartRedis();
    const t0 = Date.now();
    const rec = await recovery(load, t0);
    await sleep(s.afterMs);
    const tally = await settle(load, pair.a.url, observer.token);
    for (const node of [pair.a, pair.b]) if (node.child.exited()) extra.push(`${node.child.name} exited`);
    return row(`Redis stopped ${Math.round(s.redisDownMs / 1000)} s`, tally, rec, facts, extra);
  } finally {
    load.close();
  }
}

/**
 * A TCP proxy between a node and PostgreSQL hangs (bytes go nowhere, nothing
 * closes), then adds latency, then passes again: sends time out with clear
 * errors and /healthz keeps answering quickly (the event loop is not frozen).
 */
export async function hangDatabase(env: ChaosEnv, s: FaultSettings): Promise<FaultRow> {
  const databaseUrl = await env.freshDatabase('proxy');
  const proxy = await startTcpProxy(env.pg.port);
  const proxiedUrl = new URL(databaseUrl);
  proxiedUrl.port = String(proxy.port);
  const node = await env.startNode('chaos-proxy', { DATABASE_URL: proxiedUrl.toString() });
  const load = await Load.start({ urls: Array.from({ length: Math.max(2, s.clients / 2) }, () => [node.url]), intervalMs: s.intervalMs }, 'px');
  const observer = await register(node.url, 'obs');
  const probe = await rawSocket(node.url, observer.token);
  const extra: string[] = [];
  const facts: FaultRow['facts'] = {};
  try {
    const joined = await emitAck(probe, 'room:join', { roomId: load.roomId }, 5_000);
    if (joined.kind !== 'ack' || !joined.ack.ok) throw new Error('probe could not join');
    load.run();
    await sleep(s.warmMs);

    proxy.setMode({ kind: 'hang' });
    const hungAt = Date.now();
    let healthSlowest = 0;
    let healthChecks = 0;
    const health = (async () => {
      while (Date.now() - hungAt < s.hangMs) {
        const res = await call(node.url, 'GET', '/healthz').catch(() => null);
        healthChecks++;
        if (!res || res.status !== 200) extra.push('/healthz did not answer 200 while the database hung');
        healthSlowest = Math.max(healthSlowest, res?.ms ?? Infinity);
        await sleep(100);
      }
    })();
    const out = await emitAck(probe, 'message:send', { roomId: load.roomId, content: 'probe-hung', clientMsgId: randomUUID() }, SDK_ACK_TIMEOUT_MS + 5_000);
    facts.hungSendAckMs = Math.round(out.ms);
    facts.hungSendAnswer = out.kind === 'ack' ? answerOf(out.ack) : out.kind;
    if (out.kind !== 'ack') extra.push(`a send while the database hung got no ack within ${SDK_ACK_TIMEOUT_MS + 5_000} ms`);
    else if (!['ok', 'unavailable'].includes(answerOf(out.ack))) extra.push(`a send while the database hung answered ${answerOf(out.ack)}, not unavailable`);
    else if (out.ms > SDK_ACK_TIMEOUT_MS) extra.push(`a send while the database hung took ${Math.round(out.ms)} ms (the SDK gives up after ${SDK_ACK_TIMEOUT_MS})`);
    await health;
    facts.healthzChecks = healthChecks;
    facts.healthzSlowestMs = Math.round(healthSlowest);
    // A loose bound: the event loop answers a trivial route in well under a second.
    if (healthSlowest > 1_000) extra.push(`/healthz took ${Math.round(healthSlowest)} ms while the database hung`);

    proxy.setMode({ kind: 'latency', ms: 150 });
    const slow = await emitAck(probe, 'message:send', { roomId: load.roomId, content: 'probe-slow', clientMsgId: randomUUID() }, 30_000);
    facts.slowSendAckMs = Math.round(slow.ms);
    facts.slowSendAnswer = slow.kind === 'ack' ? answerOf(slow.ack) : slow.kind;
    proxy.setMode({ kind: 'pass' });
    const t0 = Date.now();
    const rec = await recovery(load, t0);
    await sleep(s.afterMs);
    probe.close();
    const tally = await settle(load, node.url, observer.token);
    if (node.child.exited()) extra.push('the node exited');
    return row('PostgreSQL hung behind a TCP proxy', tally, rec, facts, extra);
  } finally {
    probe.close();
    load.close();
    await node.child.stop('SIGTERM', 10_000);
    await proxy.close();
  }
}

/**
 * A TCP proxy between both nodes and Redis hangs (nothing forwarded, nothing
 * closed), then passes again: sends keep being acked, /healthz stays fast, no
 * node exits, and every client catches up once Redis answers again.
 */
export async function hangRedis(env: ChaosEnv, s: FaultSettings): Promise<FaultRow> {
  const proxy = await startTcpProxy(env.redisPort);
  const databaseUrl = await env.freshDatabase('redishang');
  const prefix = `chaos-redishang-${randomUUID().slice(0, 8)}`;
  const common = { DATABASE_URL: databaseUrl, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_KEY_PREFIX: prefix };
  const a = await env.startNode('chaos-redishang-a', common);
  const b = await env.startNode('chaos-redishang-b', common);
  const pair = { a, b, prefix, common };
  const load = await loadOnPair(pair, s, 'rh');
  const observer = await register(a.url, 'obs');
  const extra: string[] = [];
  const facts: FaultRow['facts'] = {};
  try {
    load.run();
    await sleep(s.warmMs);
    proxy.setMode({ kind: 'hang' });
    const hungAt = Date.now();
    let healthSlowest = 0;
    while (Date.now() - hungAt < s.hangMs) {
      for (const node of [a, b]) {
        const res = await call(node.url, 'GET', '/healthz').catch(() => null);
        if (!res || res.status !== 200) extra.push('/healthz did not answer 200 while Redis hung');
        healthSlowest = Math.max(healthSlowest, res?.ms ?? Infinity);
      }
      await sleep(200);
    }
    facts.healthzSlowestMs = Math.round(healthSlowest);
    if (healthSlowest > 1_000) extra.push(`/healthz took ${Math.round(healthSlowest)} ms while Redis hung`);
    facts.ackedWhileHung = load.clients.reduce((n, c) => n + c.acked.filter((x) => x.at > hungAt).length, 0);
    if (facts.ackedWhileHung === 0) extra.push('no send was acked while Redis hung');
    for (const node of [a, b]) if (node.child.exited()) extra.push(`${node.child.name} exited while Redis hung`);
    proxy.setMode({ kind: 'pass' });
    const t0 = Date.now();
    const rec = await recovery(load, t0);
    await sleep(s.afterMs);
    const tally = await settle(load, a.url, observer.token);
    for (const node of [a, b]) if (node.child.exited()) extra.push(`${node.child.name} exited`);
    return row('Redis hung behind a TCP proxy', tally, rec, facts, extra);
  } finally {
    load.close();
    await Promise.all([a.child.stop('SIGTERM', 10_000), b.child.stop('SIGTERM', 10_000)]);
    await proxy.close();
  }
}

/** The p-th percentile (0-100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Delivery latencies (seen by a client − stored) of messages stored in [from, to), all clients. */
export function deliveryLatencies(load: Load, from: number, to: number): number[] {
  return load.clients.flatMap((c) =>
    c.seen.flatMap(({ message, at }) => {
      const stored = Date.parse(message.createdAt);
      return stored >= from && stored < to ? [at - stored] : [];
    }),
  );
}

/** A loose bound on delivery p99 while the nodes roll: a handover costs a re-join and a catch-up, not a reconnect backoff. */
const ROLL_P99_LIMIT_MS = 2_000;

/**
 * Rolling restart of two nodes under load, behind a balancer that health-
 * checks /readyz (chaos/balancer.ts); every client has the balancer's URL
 * only. SIGTERM A, put its replacement in the balancer once A has exited,
 * wait; then the same for B. Each draining node tells its clients
 * (`server:draining`) and the SDK moves them before the close, so no client
 * should even go `reconnecting`; nothing may be lost or doubled, and delivery
 * p99 during the roll is measured. The replacements are started before the
 * load: a cold start (tsx, the web bundle) under this load on a small shared
 * machine can outlast the start-up wait, and it is not what the row measures.
 */
export async function rollingRestart(env: ChaosEnv, s: FaultSettings): Promise<FaultRow> {
  const pair = await startPair(env, 'roll');
  const replacements = [await env.startNode('chaos-roll-a2', pair.common), await env.startNode('chaos-roll-b2', pair.common)];
  const nodes = [pair.a, pair.b];
  const balancer = await startBalancer(nodes.map((n) => n.url));
  const load = await Load.start({ urls: Array.from({ length: s.clients }, () => [balancer.url]), intervalMs: s.intervalMs }, 'rr');
  let reconnects = 0;
  for (const c of load.clients) c.client.on('state', ({ state }) => void (state === 'reconnecting' && reconnects++));
  const observer = await register(balancer.url, 'obs');
  const extra: string[] = [];
  const facts: FaultRow['facts'] = {};
  try {
    load.run();
    await sleep(s.warmMs);
    const rollFrom = Date.now();
    let lastStop = rollFrom;
    for (const [i, name] of ['a', 'b'].entries()) {
      lastStop = Date.now();
      await nodes[i]!.child.stop('SIGTERM', 15_000);
      const exitMs = Date.now() - lastStop;
      const exit = nodes[i]!.child.exited();
      facts[`${name}ExitMs`] = exitMs;
      if (exit?.code !== 0) extra.push(`node ${name} exited with ${exit?.code ?? exit?.signal}, not 0`);
      if (exitMs > 10_000) extra.push(`node ${name} took ${exitMs} ms to exit (limit 10 s)`);
      nodes[i] = replacements[i]!;
      await balancer.setBackends(nodes.map((n) => n.url));
      await sleep(s.warmMs);
    }
    const rollTo = Date.now();
    const rec = await recovery(load, lastStop);
    await sleep(s.afterMs);
    const tally = await settle(load, balancer.url, observer.token);
    const during = deliveryLatencies(load, rollFrom, rollTo);
    const before = deliveryLatencies(load, 0, rollFrom);
    facts.deliveryP99Ms = Math.round(percentile(during, 99));
    facts.deliveryP50Ms = Math.round(percentile(during, 50));
    facts.baselineP99Ms = Math.round(percentile(before, 99));
    facts.deliveriesDuringRoll = during.length;
    facts.clientReconnects = reconnects;
    if (reconnects > 0) extra.push(`${reconnects} client reconnects: the handover did not move them before the close`);
    if (!(facts.deliveryP99Ms <= ROLL_P99_LIMIT_MS)) extra.push(`delivery p99 during the roll was ${facts.deliveryP99Ms} ms (limit ${ROLL_P99_LIMIT_MS})`);
    for (const node of nodes) if (node.child.exited()) extra.push(`${node.child.name} exited`);
    return row('rolling restart of two nodes', tally, rec, facts, extra);
  } finally {
    load.close();
    await balancer.close();
    await Promise.all([pair.a, pair.b, ...replacements].map((n) => n.child.stop('SIGTERM', 10_000)));
  }
}
