// Runs the parts of the capacity benchmark and puts the model together from
// what they measured: the unit costs, the check's error, and the plan for a
// million sockets (the arithmetic of docs/capacity.md).
import os from 'node:os';
import { checkSizes, runMixedCheck, type CheckResult } from './mixed-check.js';
import { planDeployment, type DeploymentPlan, type PlanLimits, type UnitCosts, type Workload } from './model.js';
import { measurePubSub, type PubSubPlan, type PubSubResult } from './redis-pubsub.js';
import { hasRedisBinaries, startClusterRedis, startSingleRedis, type RedisUnderTest } from './redis-servers.js';

export type CapacityPart = 'redis' | 'check';
export const CAPACITY_PARTS: readonly CapacityPart[] = ['redis', 'check'];

/** RSS per idle authenticated socket, KB: docs/benchmarks.md (c), the higher of the two full runs (22:51: 17.0 KB; 23:11: 12.5 KB). */
export const SOCKET_KB = 17.0;

/** The deployment of issue 19: 1 M sockets, 10 k msg/s, rooms of mixed sizes (docs/capacity.md says why this mix). */
export const MILLION_SOCKETS: Workload = {
  sockets: 1_000_000,
  messagesPerSec: 10_000,
  rooms: [
    { name: 'direct and small (3 online)', messageShare: 0.6, onlineMembers: 3 },
    { name: 'team (20 online)', messageShare: 0.3, onlineMembers: 20 },
    { name: 'community (300 online)', messageShare: 0.09, onlineMembers: 300 },
    { name: 'broadcast (5,000 online)', messageShare: 0.01, onlineMembers: 5_000 },
  ],
};

/** 60 % of a core at most (bursts, a node failing over to the others, GC), 4 GB of sockets per node process. */
export const LIMITS: PlanLimits = { targetCpuPercent: 60, socketMemoryMb: 4_096 };

export interface CapacityReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: { cpus: number; model: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[]; node: string };
  redis?: { single: PubSubResult; cluster: PubSubResult } | { available: false; reason: string };
  check?: CheckResult | { available: false; reason: string };
  /** The unit costs of this run, and the plan they give for MILLION_SOCKETS (null when a part was not run). */
  units: UnitCosts | null;
  /** Today's engine at 1× and 10×, and 10× with a fan-out channel per room. */
  plan: { now: DeploymentPlan; at10x: DeploymentPlan; at10xRoomChannels: DeploymentPlan } | null;
}

export interface CapacityOptions {
  quick: boolean;
  parts: ReadonlySet<CapacityPart>;
  /** A fresh PostgreSQL database for the check (null: no check). */
  databaseUrl: string | null;
  log: (line: string) => void;
}

function pubSubPlans(quick: boolean): PubSubPlan[] {
  if (quick) return [{ nodes: 2, batchSize: 1, rate: 100, durationMs: 300 }];
  return [
    { nodes: 3, batchSize: 1, rate: 2_000, durationMs: 2_000 },
    { nodes: 6, batchSize: 1, rate: 2_000, durationMs: 2_000 },
    { nodes: 3, batchSize: 10, rate: 5_000, durationMs: 2_000 },
  ];
}

export async function runCapacity(options: CapacityOptions): Promise<CapacityReport> {
  const report: CapacityReport = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    quick: options.quick,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? 'unknown',
      loadAverageAtStart: os.loadavg().map(round2),
      loadAverageAtEnd: [],
      node: process.version,
    },
    units: null,
    plan: null,
  };
  if (!hasRedisBinaries()) {
    const reason = { available: false as const, reason: 'not available: redis-server and redis-cli are not on PATH' };
    if (options.parts.has('redis')) report.redis = reason;
    if (options.parts.has('check')) report.check = reason;
  } else {
    const single = options.parts.has('redis') ? await withRedis(startSingleRedis, (redis) => measurePubSub(redis, pubSubPlans(options.quick), options.log)) : null;
    // One local cluster for the cluster's pub/sub steps and the check (their channels differ by prefix).
    options.log('a local Redis Cluster (3 masters)');
    await withRedis(startClusterRedis, async (redis) => {
      if (single) report.redis = { single, cluster: await measurePubSub(redis, pubSubPlans(options.quick), options.log) };
      if (options.parts.has('check')) {
        const databaseUrl = options.databaseUrl;
        report.check = databaseUrl
          ? await runMixedCheck(databaseUrl, redis, checkSizes(options.quick), options.log)
          : { available: false, reason: 'not available: the check needs PostgreSQL (DATABASE_URL)' };
      }
    });
  }
  report.units = unitsOf(report);
  if (report.units) {
    const at10x = { ...MILLION_SOCKETS, sockets: MILLION_SOCKETS.sockets * 10, messagesPerSec: MILLION_SOCKETS.messagesPerSec * 10 };
    report.plan = {
      now: planDeployment(report.units, MILLION_SOCKETS, LIMITS),
      at10x: planDeployment(report.units, at10x, LIMITS),
      at10xRoomChannels: planDeployment(report.units, at10x, LIMITS, 'room'),
    };
  }
  report.finishedAt = new Date().toISOString();
  report.machine.loadAverageAtEnd = os.loadavg().map(round2);
  return report;
}

async function withRedis<T>(start: () => Promise<RedisUnderTest>, work: (redis: RedisUnderTest) => Promise<T>): Promise<T> {
  const redis = await start();
  try {
    return await work(redis);
  } finally {
    await redis.stop();
  }
}

/**
 * The model's unit costs from this run: the node and PostgreSQL costs from
 * the check's calibration, Redis from the pub/sub part on the cluster (the
 * cost at 3 and at 6 subscribing nodes gives a fixed and a per-node part).
 */
export function unitsOf(report: Pick<CapacityReport, 'redis' | 'check'>): UnitCosts | null {
  if (!report.check || !('units' in report.check)) return null;
  const units = report.check.units;
  let redisFixedUs = units.redisFixedUs;
  let redisPerNodeUs = units.redisPerNodeUs;
  if (report.redis && 'cluster' in report.redis) {
    const single = report.redis.cluster.steps.filter((s) => s.batchSize === 1 && s.channelShardCpuUsPerMessage !== null);
    const few = single.find((s) => s.nodes === 3);
    const many = single.find((s) => s.nodes === 6);
    if (few && many) {
      redisPerNodeUs = Math.max(0, (many.channelShardCpuUsPerMessage! - few.channelShardCpuUsPerMessage!) / (many.nodes - few.nodes));
      redisFixedUs = Math.max(0, few.channelShardCpuUsPerMessage! - redisPerNodeUs * few.nodes);
    }
  }
  return { ...units, redisFixedUs: round2(redisFixedUs), redisPerNodeUs: round2(redisPerNodeUs), socketKb: SOCKET_KB };
}

export function formatCapacityReport(report: CapacityReport): string {
  const lines: string[] = [];
  lines.push(`Capacity benchmark ${report.startedAt}${report.quick ? ' (quick: checks the harness, not the figures)' : ''}`);
  lines.push(`machine: ${report.machine.cpus} × ${report.machine.model}, load ${report.machine.loadAverageAtStart.join(' ')} → ${report.machine.loadAverageAtEnd.join(' ')}, node ${report.machine.node}`);
  if (report.redis) {
    lines.push('', 'Redis through the Socket.IO adapter (serverSideEmit of committed batches)');
    if ('available' in report.redis) lines.push(report.redis.reason);
    else {
      lines.push('redis   | nodes | batch | offered | msg/s  | recv ratio | shard CPU% | µs/msg | msg/s at 1 core | gen CPU%');
      for (const result of [report.redis.single, report.redis.cluster]) {
        for (const s of result.steps) {
          lines.push(
            [result.redis.padEnd(7), pad(s.nodes, 5), pad(s.batchSize, 5), pad(s.rate, 7), pad(s.messagesPerSec, 6), pad(s.receivedRatio, 10), pad(s.channelShardCpuPercent, 10), pad(s.channelShardCpuUsPerMessage, 6), pad(s.messagesPerSecAtFullCore, 15), pad(s.generatorCpuPercent, 8)].join(' | '),
          );
        }
      }
    }
  }
  if (report.check) {
    lines.push('', 'Check: 3 nodes + Redis Cluster (3 masters) + PostgreSQL');
    if ('available' in report.check) lines.push(report.check.reason);
    else {
      const c = report.check;
      lines.push(`${c.sockets} sockets; mix ${c.roomMix.map((r) => `${Math.round(r.messageShare * 100)}% in rooms of ${r.onlineMembers}`).join(', ')}; fan-out ${c.fanout}`);
      lines.push(`idle CPU% per node ${c.idle.nodeCpuPercent.join(' / ')}, PostgreSQL ${c.idle.postgresCpuPercent}, Redis shard ${c.idle.redisShardCpuPercent}`);
      lines.push(`unit costs (µs): send ${c.units.sendUs}, broadcast ${c.units.broadcastUs}, delivery ${c.units.deliveryUs}, remote ${c.units.remoteUs}, PostgreSQL/msg ${c.units.postgresUs}, Redis shard/msg ${c.units.redisFixedUs}`);
      lines.push('phase  | rate | sent  | dlv ratio | dlv/s  | stored/s | ack p99 | dlv p99 | node CPU% (µs/dlv)                      | pg CPU% | redis CPU%');
      for (const s of [c.calibration.pairs, c.calibration.fanout, ...c.mixed.map((m) => m.measured)]) {
        lines.push(
          [s.phase.padEnd(6), pad(s.rate, 4), pad(s.sent, 5), pad(s.deliveryRatio, 9), pad(s.deliveriesPerSec, 6), pad(s.storedPerSec, 8), pad(s.ackP99Ms, 7), pad(s.deliveryP99Ms, 7), s.nodes.map((n) => `${n.cpuPercent} (${n.cpuUsPerDelivery ?? '-'})`).join(' / ').padEnd(40), pad(s.postgresCpuPercent, 7), pad(s.redisShardCpuPercent, 10)].join(' | '),
        );
      }
      for (const m of c.mixed) {
        lines.push(
          `mixed ${m.measured.rate} msg/s predicted: node CPU% ${m.predicted.nodeCpuPercent.join(' / ')}, pg ${m.predicted.postgresCpuPercent}, redis ${m.predicted.redisShardCpuPercent}, dlv/s ${m.predicted.deliveriesPerSec}` +
            ` | error: nodes ${m.errorPercent.nodeCpu.join(' / ')} % (sum ${m.errorPercent.totalNodeCpu} %), pg ${m.errorPercent.postgres} %, redis ${m.errorPercent.redis} %, dlv/s ${m.errorPercent.deliveries} %`,
        );
      }
      lines.push(`seqs: ${c.seqCheck.messages} messages in ${c.seqCheck.rooms} rooms, ${c.seqCheck.ackedTotal} acked, gap-free: ${c.seqCheck.gapFree}`);
    }
  }
  if (report.units && report.plan) {
    const { now } = report.plan;
    lines.push('', `Plan for 1 M sockets at 10 k msg/s (fan-out ${round2(now.fanout)}, ${Math.round(now.deliveriesPerSec)} deliveries/s), CPU ≤ ${LIMITS.targetCpuPercent} %`);
    const rows = [
      ['1×', now],
      ['10×', report.plan.at10x],
      ['10×, a channel per room', report.plan.at10xRoomChannels],
    ] as const;
    for (const [name, plan] of rows) {
      lines.push(
        `${name}: ${plan.feasible ? '' : 'NOT FEASIBLE (remote messages alone exceed the target), '}${plan.nodes} node cores (${plan.nodesBoundBy}), ` +
          `${plan.socketsPerNode} sockets and ${Math.round(plan.nodeCpuPercent)} % CPU each (${Math.round(plan.remoteSharePercent)} % of it remote messages); ` +
          `Redis fan-out ${Math.round(plan.redisCpuPercent)} % of a core ${redisVerdict(plan)}; PostgreSQL ${round2(plan.postgresCores)} cores at the target`,
      );
    }
  }
  return lines.join('\n');
}

/** Today's one /chat channel lives on one shard: more than one shard's worth does not fit. */
function redisVerdict(plan: DeploymentPlan): string {
  if (plan.channels === 'room') return `(${plan.redisShards} shard(s) at the target)`;
  return plan.redisShards > 1 ? `on its one shard: OVER the target (needs ${plan.redisShards} shards' worth)` : 'on its one shard';
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const pad = (value: number | string | null, width: number) => String(value ?? 'n/a').padStart(width);
