// The model's check at a small scale: 3 Roomcast nodes on the local Redis
// Cluster and PostgreSQL. First three calibration steps measure the unit
// costs on these very processes (idle; 2-member rooms from node 1 to node 2:
// the send, a broadcast to one socket, what a node spends on a message
// committed elsewhere; one big room on node 1: the cost per delivery). Then rooms of
// mixed sizes, their members spread over the three nodes, at fixed offered
// rates: achieved deliveries/s, CPU per node and per delivery, stored msg/s,
// PostgreSQL and Redis CPU, each against what the model predicts from the
// unit costs.
import { adapterKey } from '../../server/cluster/redis.js';
import { checkSeqsInDatabase, type SeqCheck } from '../database.js';
import { connectMany, DeliveryRecorder, joinAll, nextStepId, quiet, runStep, wireSender, type Sender, type StepResult } from '../load.js';
import { cpuSeconds, postgresCpuByPid, setBenchDatabase } from '../proc-stats.js';
import type { ServerProcess } from '../processes.js';
import { startRoomcast } from '../targets.js';
import type { WireClient } from '../wire-client.js';
import { fanoutFactor, nodeCpuPercent, redisShardCpuPercent, type NodeLoad, type RoomClass, type UnitCosts } from './model.js';
import { redisCpuSeconds, type RedisUnderTest } from './redis-servers.js';

export interface CheckSizes {
  users: number;
  /** The mixed rooms: how many of each class, members each, and sending sockets per room. */
  classes: readonly { name: string; rooms: number; members: number; sendersPerRoom: number }[];
  /** Calibration: rooms of 2 on node 1, and one room of `fanoutMembers` on node 1. */
  pairRooms: number;
  fanoutMembers: number;
  pairRate: number;
  fanoutRate: number;
  /** Offered rates (msg/s) of the mixed steps. */
  mixedRates: readonly number[];
  stepMs: number;
  warmUpMs: number;
  drainMs: number;
  idleMs: number;
}

export function checkSizes(quick: boolean): CheckSizes {
  if (quick) {
    return {
      users: 2,
      classes: [
        { name: 'small', rooms: 3, members: 3, sendersPerRoom: 1 },
        { name: 'medium', rooms: 1, members: 6, sendersPerRoom: 1 },
        { name: 'large', rooms: 1, members: 9, sendersPerRoom: 1 },
      ],
      pairRooms: 2,
      fanoutMembers: 6,
      pairRate: 20,
      fanoutRate: 10,
      mixedRates: [20],
      stepMs: 500,
      warmUpMs: 300,
      drainMs: 1_000,
      idleMs: 300,
    };
  }
  return {
    users: 12,
    // Message shares 60 / 30 / 10 % (36, 18 and 6 of every 60 sends).
    classes: [
      { name: 'small', rooms: 36, members: 3, sendersPerRoom: 1 },
      { name: 'medium', rooms: 6, members: 20, sendersPerRoom: 3 },
      { name: 'large', rooms: 1, members: 150, sendersPerRoom: 6 },
    ],
    pairRooms: 20,
    fanoutMembers: 100,
    pairRate: 300,
    fanoutRate: 40,
    mixedRates: [100, 300],
    stepMs: 5_000,
    warmUpMs: 3_000,
    drainMs: 3_000,
    idleMs: 4_000,
  };
}

/** What one step cost each part, measured around it. */
export interface MeasuredStep {
  phase: string;
  rate: number;
  wallSeconds: number;
  sent: number;
  acked: number;
  deliveries: number;
  expectedDeliveries: number;
  deliveryRatio: number;
  deliveriesPerSec: number;
  storedPerSec: number;
  ackP99Ms: number | null;
  deliveryP99Ms: number | null;
  /** Per node: CPU % of one core (idle share included), sends, deliveries expected, remote messages. */
  nodes: { cpuPercent: number; sends: number; broadcasts: number; deliveries: number; remote: number; cpuUsPerDelivery: number | null }[];
  postgresCpuPercent: number | null;
  /** The shard of the /chat channel, % of one core. */
  redisShardCpuPercent: number | null;
  generatorCpuPercent: number;
}

export interface Prediction {
  nodeCpuPercent: number[];
  postgresCpuPercent: number;
  redisShardCpuPercent: number;
  deliveriesPerSec: number;
}

export interface CheckResult {
  sockets: number;
  roomMix: RoomClass[];
  fanout: number;
  idle: { nodeCpuPercent: number[]; postgresCpuPercent: number | null; redisShardCpuPercent: number | null };
  calibration: { pairs: MeasuredStep; fanout: MeasuredStep };
  /** The unit costs measured here (Redis: this run's per-message cost at 3 nodes as the fixed part). */
  units: Omit<UnitCosts, 'socketKb'>;
  mixed: { measured: MeasuredStep; predicted: Prediction; errorPercent: { nodeCpu: number[]; totalNodeCpu: number; postgres: number | null; redis: number | null; deliveries: number } }[];
  seqCheck: SeqCheck & { ackedTotal: number };
}

interface Socket {
  client: WireClient;
  node: number;
  room: string;
}

/** The sharded adapter's /chat channel under the nodes' default REDIS_KEY_PREFIX: the shard every committed batch crosses. */
const CHAT_CHANNEL = `${adapterKey('roomcast')}#/chat#`;

export async function runMixedCheck(databaseUrl: string, redis: RedisUnderTest, sizes: CheckSizes, log: (line: string) => void): Promise<CheckResult> {
  if (redis.kind !== 'cluster') throw new Error('the check runs on the Redis Cluster');
  const databaseName = new URL(databaseUrl).pathname.slice(1);
  setBenchDatabase(databaseName);
  // startRoomcast passes no REDIS_URL of this process on (the test runner's): the nodes get the cluster only.
  const target = await startRoomcast({ databaseUrl, nodes: 3, env: { REDIS_CLUSTER_NODES: (redis.target as { clusterNodes: string[] }).clusterNodes.join(',') } });
  const delivered = [0, 0, 0];
  const recorder = new DeliveryRecorder();
  const opened: WireClient[] = [];
  try {
    const accounts = await target.createAccounts(sizes.users);
    const shard = redis.ownerOf(CHAT_CHANNEL);
    const open = async (node: number, count: number): Promise<WireClient[]> => {
      const onFrame = (frame: Buffer) => {
        if (frame.includes('"message:new"')) delivered[node]!++;
        recorder.onFrame(frame);
      };
      const { clients } = await connectMany(target, node, accounts, count, onFrame, 50);
      opened.push(...clients);
      return clients;
    };
    // Rooms and sockets: the calibration rooms on nodes 1 and 2; the mixed classes with member m of room r on node (r + m) % 3.
    log('check: rooms and sockets');
    const pairRoomIds = await target.createRooms(accounts[0]!, sizes.pairRooms);
    const [fanoutRoom] = await target.createRooms(accounts[0]!, 1);
    // Pairs: the sender on node 1, the other member on node 2.
    const pairSenders: Socket[] = (await open(0, sizes.pairRooms)).map((client, i) => ({ client, node: 0, room: pairRoomIds[i]! }));
    const pairReceivers: Socket[] = (await open(1, sizes.pairRooms)).map((client, i) => ({ client, node: 1, room: pairRoomIds[i]! }));
    const pairs = [...pairSenders, ...pairReceivers];
    const fanoutSockets: Socket[] = (await open(0, sizes.fanoutMembers)).map((client) => ({ client, node: 0, room: fanoutRoom! }));
    const mixedRooms: { room: string; members: { node: number }[]; sendersPerRoom: number }[] = [];
    for (const cls of sizes.classes) {
      for (const room of await target.createRooms(accounts[0]!, cls.rooms)) {
        const r = mixedRooms.length;
        mixedRooms.push({ room, members: Array.from({ length: cls.members }, (_, m) => ({ node: (r + m) % 3 })), sendersPerRoom: cls.sendersPerRoom });
      }
    }
    // Each node's sockets opened together, then handed out to the members placed on it.
    const onNode = await Promise.all([0, 1, 2].map((node) => open(node, mixedRooms.reduce((sum, r) => sum + r.members.filter((m) => m.node === node).length, 0))));
    const mixedSockets = mixedRooms.map((r) => ({
      ...r,
      members: r.members.map(({ node }): Socket => ({ client: onNode[node]!.pop()!, node, room: r.room })),
    }));
    const all = [...pairs, ...fanoutSockets, ...mixedSockets.flatMap((r) => r.members)];
    await joinAll(
      all.map((s) => s.client),
      (i) => all[i]!.room,
    );
    const roomMembers = new Map<string, Socket[]>();
    for (const s of all) roomMembers.set(s.room, [...(roomMembers.get(s.room) ?? []), s]);
    const pids = target.nodes.map((n) => n.pid);
    const meter = () => meters(pids, databaseName, redis.ports[shard]!);

    // A schedule: the socket sending the k-th message is senders[k % senders.length].
    let ackedTotal = 0;
    const measure = async (phase: string, rate: number, senderList: readonly Socket[], durationMs = sizes.stepMs) => {
      const step = await measureStep(phase, rate, senderList, durationMs, roomMembers, sizes, recorder, delivered, target.nodes, meter);
      ackedTotal += step.acked;
      return step;
    };

    const senders = mixedSockets.flatMap((r) => r.members.slice(0, r.sendersPerRoom));
    const fanoutSenders = fanoutSockets.slice(0, 5);
    // Warm-up, not measured: the first seconds of fresh processes pay for JIT compilation and PostgreSQL's first plans
    // (a first run without it put the send cost at 4× the warm one).
    log('check: warm-up');
    for (const [senderList, rate] of [[pairSenders, sizes.pairRate], [fanoutSenders, sizes.fanoutRate], [senders, sizes.mixedRates[0]!]] as const) {
      await measure('warm-up', rate, senderList, sizes.warmUpMs);
    }
    log('check: idle');
    await quiet(pids);
    const idle = await measureIdle(sizes.idleMs, meter);
    log(`check: calibration, ${sizes.pairRooms} rooms of 2 (node 1 → node 2) at ${sizes.pairRate} msg/s`);
    const pairSteps = await measure('pairs', sizes.pairRate, pairSenders);
    log(`check: calibration, one room of ${sizes.fanoutMembers} on node 1 at ${sizes.fanoutRate} msg/s`);
    const fanoutStep = await measure('fanout', sizes.fanoutRate, fanoutSenders);
    const units = unitsFrom(idle, pairSteps, fanoutStep, sizes.fanoutMembers);

    const roomMix = sizes.classes.map((cls) => ({
      name: cls.name,
      messageShare: (cls.rooms * cls.sendersPerRoom) / senders.length,
      onlineMembers: cls.members,
    }));
    const mixed: CheckResult['mixed'] = [];
    for (const rate of sizes.mixedRates) {
      log(`check: mixed rooms at ${rate} msg/s`);
      const measured = await measure('mixed', rate, senders);
      const predicted = predict(units, idle, measured);
      mixed.push({ measured, predicted, errorPercent: errors(measured, predicted) });
    }
    await new Promise((r) => setTimeout(r, 500));
    const seqCheck = { ...(await checkSeqsInDatabase(databaseUrl, [...roomMembers.keys()])), ackedTotal };
    return {
      sockets: all.length,
      roomMix,
      fanout: round(fanoutFactor(roomMix), 2),
      idle,
      calibration: { pairs: pairSteps, fanout: fanoutStep },
      units,
      mixed,
      seqCheck,
    };
  } finally {
    for (const client of opened) client.close();
    await target.stop();
  }
}

/** CPU counters of every part, to diff around a step. */
interface Meters {
  at: number;
  nodes: (number | null)[];
  postgres: Map<number, number> | null;
  redis: number | null;
}

interface Usage {
  seconds: number;
  /** % of one core over `seconds`. */
  nodes: number[];
  postgres: number | null;
  redis: number | null;
}

/** Node processes, this database's PostgreSQL backends (the shared WAL writer also works for other databases: left out), the /chat channel's Redis shard. */
function meters(pids: readonly number[], databaseName: string, redisPort: number): Meters {
  return { at: performance.now(), nodes: pids.map(cpuSeconds), postgres: postgresCpuByPid(databaseName, true), redis: redisCpuSeconds(redisPort) };
}

function usage(before: Meters, after: Meters): Usage {
  const seconds = (after.at - before.at) / 1000;
  const pct = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : round(((a - b) / seconds) * 100, 2));
  let postgres: number | null = null;
  if (before.postgres && after.postgres) {
    // Over the backends alive at the end: one that exited took its CPU with it; one that started began at 0.
    let busy = 0;
    for (const [pid, cpu] of after.postgres) busy += cpu - (before.postgres.get(pid) ?? 0);
    postgres = round((busy / seconds) * 100, 2);
  }
  return { seconds, nodes: after.nodes.map((a, i) => pct(a, before.nodes[i]) ?? 0), postgres, redis: pct(after.redis, before.redis) };
}

async function measureIdle(ms: number, meter: () => Meters): Promise<CheckResult['idle']> {
  const before = meter();
  await new Promise((r) => setTimeout(r, ms));
  const used = usage(before, meter());
  return { nodeCpuPercent: used.nodes, postgresCpuPercent: used.postgres, redisShardCpuPercent: used.redis };
}

async function measureStep(
  phase: string,
  rate: number,
  senders: readonly Socket[],
  durationMs: number,
  roomMembers: Map<string, Socket[]>,
  sizes: CheckSizes,
  recorder: DeliveryRecorder,
  delivered: number[],
  nodes: readonly ServerProcess[],
  meter: () => Meters,
): Promise<MeasuredStep> {
  const wire: Sender[] = senders.map((s) => wireSender(s.client));
  // Sends made by runStep go round-robin over `wire`; its own ratio assumes one fan-out, so the exact expectation is counted below.
  const meanFanout = senders.reduce((sum, s) => sum + roomMembers.get(s.room)!.length - 1, 0) / senders.length;
  await quiet(nodes.map((n) => n.pid));
  const before = meter();
  const deliveredBefore = [...delivered];
  const step: StepResult = await runStep(
    { step: nextStepId(), rate, durationMs, fanout: meanFanout, roomOf: (i) => senders[i]!.room, drainMs: sizes.drainMs },
    wire,
    recorder,
    nodes,
  );
  const used = usage(before, meter());
  const wallSeconds = used.seconds;
  const perNode = nodes.map(() => ({ sends: 0, broadcasts: 0, deliveries: 0, remote: 0 }));
  for (let k = 0; k < step.sent; k++) {
    const sender = senders[k % senders.length]!;
    perNode[sender.node]!.sends++;
    const members = roomMembers.get(sender.room)!;
    for (const member of members) if (member !== sender) perNode[member.node]!.deliveries++;
    for (const node of new Set(members.map((m) => m.node))) perNode[node]!.broadcasts++;
    for (let n = 0; n < perNode.length; n++) if (n !== sender.node) perNode[n]!.remote++;
  }
  const expectedDeliveries = perNode.reduce((sum, n) => sum + n.deliveries, 0);
  const deliveries = delivered.reduce((sum, d, i) => sum + d - deliveredBefore[i]!, 0);
  return {
    phase,
    rate,
    wallSeconds: round(wallSeconds, 2),
    sent: step.sent,
    acked: step.acked,
    deliveries,
    expectedDeliveries,
    deliveryRatio: expectedDeliveries > 0 ? round(deliveries / expectedDeliveries, 4) : 1,
    deliveriesPerSec: Math.round(step.deliveries / step.seconds),
    storedPerSec: step.ackedPerSec,
    ackP99Ms: step.ack.p99,
    deliveryP99Ms: step.delivery.p99,
    nodes: perNode.map((n, i) => {
      const cpuPercent = used.nodes[i]!;
      const measuredDeliveries = delivered[i]! - deliveredBefore[i]!;
      return { cpuPercent, ...n, cpuUsPerDelivery: measuredDeliveries > 0 ? round(((cpuPercent / 100) * wallSeconds * 1e6) / measuredDeliveries, 2) : null };
    }),
    postgresCpuPercent: used.postgres,
    redisShardCpuPercent: used.redis,
    generatorCpuPercent: step.generatorCpuPercent,
  };
}

/**
 * Unit costs from the calibration steps, each step's idle share taken off.
 * Per message: in the pairs step node 1 pays send + broadcast (to no other
 * socket), node 2 remote + broadcast + delivery, node 3 remote alone; in the
 * fan-out step node 1 pays send + broadcast + (members − 1) deliveries.
 */
function unitsFrom(idle: CheckResult['idle'], pairs: MeasuredStep, fanout: MeasuredStep, fanoutMembers: number): CheckResult['units'] {
  const busyUs = (step: MeasuredStep, node: number) => (((step.nodes[node]!.cpuPercent - idle.nodeCpuPercent[node]!) / 100) * step.wallSeconds * 1e6) / Math.max(1, step.sent);
  const remoteUs = Math.max(0, busyUs(pairs, 2));
  const deliveryUs = Math.max(0, (busyUs(fanout, 0) - busyUs(pairs, 0)) / Math.max(1, fanoutMembers - 1));
  const broadcastUs = Math.max(0, busyUs(pairs, 1) - remoteUs - deliveryUs);
  const perMessage = (pct: number | null, idlePct: number | null) => (pct === null ? 0 : (((pct - (idlePct ?? 0)) / 100) * pairs.wallSeconds * 1e6) / Math.max(1, pairs.sent));
  return {
    sendUs: round(Math.max(0, busyUs(pairs, 0) - broadcastUs), 2),
    broadcastUs: round(broadcastUs, 2),
    deliveryUs: round(deliveryUs, 2),
    remoteUs: round(remoteUs, 2),
    postgresUs: round(Math.max(0, perMessage(pairs.postgresCpuPercent, idle.postgresCpuPercent)), 2),
    // The check runs at one node count (3): all of the shard's cost per message counts as fixed here; the pub/sub part splits it.
    redisFixedUs: round(Math.max(0, perMessage(pairs.redisShardCpuPercent, idle.redisShardCpuPercent)), 2),
    redisPerNodeUs: 0,
  };
}

function predict(units: CheckResult['units'], idle: CheckResult['idle'], step: MeasuredStep): Prediction {
  const perSec = (n: number) => n / step.wallSeconds;
  const full: UnitCosts = { ...units, socketKb: 0 };
  return {
    nodeCpuPercent: step.nodes.map((n, i) =>
      round(
        nodeCpuPercent(full, { sends: perSec(n.sends), broadcasts: perSec(n.broadcasts), deliveries: perSec(n.deliveries), remote: perSec(n.remote), idlePercent: idle.nodeCpuPercent[i] } satisfies NodeLoad),
        2,
      ),
    ),
    postgresCpuPercent: round((idle.postgresCpuPercent ?? 0) + (perSec(step.sent) * units.postgresUs) / 1e4, 2),
    redisShardCpuPercent: round((idle.redisShardCpuPercent ?? 0) + redisShardCpuPercent(full, perSec(step.sent), step.nodes.length), 2),
    deliveriesPerSec: Math.round(perSec(step.expectedDeliveries)),
  };
}

function errors(measured: MeasuredStep, predicted: Prediction): CheckResult['mixed'][number]['errorPercent'] {
  const err = (m: number | null, p: number) => (m === null || m === 0 ? null : round(((p - m) / m) * 100, 1));
  const totalMeasured = measured.nodes.reduce((sum, n) => sum + n.cpuPercent, 0);
  const totalPredicted = predicted.nodeCpuPercent.reduce((sum, n) => sum + n, 0);
  return {
    nodeCpu: measured.nodes.map((n, i) => err(n.cpuPercent, predicted.nodeCpuPercent[i]!) ?? 0),
    totalNodeCpu: err(totalMeasured, totalPredicted) ?? 0,
    postgres: err(measured.postgresCpuPercent, predicted.postgresCpuPercent),
    redis: err(measured.redisShardCpuPercent, predicted.redisShardCpuPercent),
    deliveries: err(measured.deliveries / measured.wallSeconds, predicted.deliveriesPerSec) ?? 0,
  };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

