// How many committed messages per second one Redis (or one shard of a Redis
// Cluster) carries through the Socket.IO Redis adapter, the way Roomcast
// nodes tell each other about commits: `serverSideEmit('messages:committed',
// batch)` from one node, received by every other. The "nodes" here are
// Socket.IO servers in this process (no HTTP), each with its own Redis
// connections and the server's own adapter (server/cluster/cluster.ts), so
// Redis sees one subscriber connection per node as in a deployment. What is
// measured is Redis's own CPU (`INFO cpu`) per message on the server holding
// the channel; the generator (this process) saturates long before Redis does,
// so the capacity is that CPU extrapolated to one full core.
import { Server } from 'socket.io';
import { redisAdapter } from '../../server/cluster/cluster.js';
import { adapterKey, connectRedis, type RedisConnections } from '../../server/cluster/redis.js';
import { createLogger } from '../../server/logger.js';
import type { CommittedMessage } from '../../server/protocol.js';
import { redisCpuSeconds, type RedisUnderTest } from './redis-servers.js';

export interface PubSubPlan {
  /** Socket.IO servers ("nodes"), each a subscriber of the channel; the first publishes. */
  nodes: number;
  /** Messages per published batch (a group commit's batch). */
  batchSize: number;
  /** Messages per second offered. */
  rate: number;
  durationMs: number;
}

export interface PubSubStep extends PubSubPlan {
  published: number;
  /** Messages received by the other nodes, all together. */
  received: number;
  /** received / (published × (nodes − 1)). */
  receivedRatio: number;
  seconds: number;
  messagesPerSec: number;
  /** CPU of the Redis server holding the channel during the step, % of one core (its idle share subtracted). */
  channelShardCpuPercent: number | null;
  /** That CPU per message published (each copied to `nodes` subscribers). */
  channelShardCpuUsPerMessage: number | null;
  /** Every master's CPU during the step (% of one core), the channel's shard included. */
  everyShardCpuPercent: (number | null)[];
  /** One core's worth of this Redis server at that cost: messages/s at 100 % CPU. */
  messagesPerSecAtFullCore: number | null;
  generatorCpuPercent: number;
}

export interface PubSubResult {
  redis: 'single' | 'cluster';
  /** Bytes of one message as JSON (the adapter sends MessagePack, about the same). */
  messageJsonBytes: number;
  /** Each server's idle CPU (% of one core) measured before the steps. */
  idleCpuPercent: (number | null)[];
  steps: PubSubStep[];
}

const PREFIX = 'capacity';

/** A message:new as a node commits it: 100 characters of content, fields as the server fills them. */
export function sampleCommitted(i: number): CommittedMessage {
  return {
    message: {
      id: String(1_000_000 + i),
      roomId: '5b0c3c8e-7f7a-4f43-9a43-0f4c1c9b2a10',
      seq: i + 1,
      userId: '0f9d3c2e-4a1b-4c55-8a9e-3b2f1d0c9e87',
      username: 'capacity_user',
      content: `capacity ${i} `.padEnd(100, 'x'),
      clientMsgId: 'c1b2a3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
      createdAt: '2026-11-30T12:00:00.000Z',
      editedAt: null,
      deleted: false,
      change: i + 1,
      mentions: [],
      replyToSeq: null,
      replyCount: 0,
      lastReplyAt: null,
      reactions: [],
    },
    originSocketId: 'abcdefghijklmnopqrst',
    committedAt: Date.now(),
  } as CommittedMessage;
}

interface Node {
  io: Server;
  redis: RedisConnections;
  received: number;
}

/** Runs the plans in order against `redis`; each plan gets fresh nodes. Bounded: every step stops at 3× its duration. */
export async function measurePubSub(redis: RedisUnderTest, plans: readonly PubSubPlan[], log: (line: string) => void): Promise<PubSubResult> {
  const channelOwner = redis.ownerOf(channelName(redis.kind));
  const cpuOf = () => redis.ports.map(redisCpuSeconds);
  const idleBefore = cpuOf();
  const idleStarted = performance.now();
  await new Promise((r) => setTimeout(r, 2_000));
  const idleSeconds = (performance.now() - idleStarted) / 1000;
  const idleCpuPercent = cpuOf().map((after, i) => percentOf(after, idleBefore[i]!, idleSeconds));
  const steps: PubSubStep[] = [];
  for (const plan of plans) {
    log(`redis ${redis.kind}: ${plan.nodes} nodes, batches of ${plan.batchSize}, ${plan.rate} msg/s`);
    const nodes = await startNodes(redis, plan.nodes);
    try {
      steps.push(await runStep(nodes, plan, cpuOf, channelOwner, idleCpuPercent));
    } finally {
      await Promise.all(nodes.map(stopNode));
    }
  }
  return { redis: redis.kind, messageJsonBytes: Buffer.byteLength(JSON.stringify(sampleCommitted(0))), idleCpuPercent, steps };
}

/** The channel `messages:committed` travels on: the /chat namespace's (static sharded mode), or the classic adapter's request channel. */
function channelName(kind: 'single' | 'cluster'): string {
  return kind === 'cluster' ? `${adapterKey(PREFIX)}#/chat#` : `${adapterKey(PREFIX)}-request#/chat#`;
}

async function startNodes(redis: RedisUnderTest, count: number): Promise<Node[]> {
  const logger = createLogger('error', 'capacity');
  const nodes: Node[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const connections = await connectRedis(redis.target, logger);
      const io = new Server();
      io.adapter(redisAdapter(connections, PREFIX, logger));
      const node: Node = { io, redis: connections, received: 0 };
      io.of('/chat').on('messages:committed', (batch: CommittedMessage[]) => {
        node.received += batch.length;
      });
      nodes.push(node);
    }
    // Sharded subscriptions are set up asynchronously: give them a moment.
    await new Promise((r) => setTimeout(r, 500));
    return nodes;
  } catch (err) {
    await Promise.all(nodes.map(stopNode));
    throw err;
  }
}

async function stopNode(node: Node): Promise<void> {
  // No HTTP server is attached, so io.close() has no engine to close: end the adapters' subscriptions, then Redis.
  await Promise.all(['/', '/chat'].map((name) => node.io.of(name).adapter.close()));
  await node.redis.close();
}

async function runStep(
  nodes: Node[],
  plan: PubSubPlan,
  cpuOf: () => (number | null)[],
  channelOwner: number,
  idleCpuPercent: (number | null)[],
): Promise<PubSubStep> {
  const publisher = nodes[0]!.io.of('/chat');
  const batches = Math.max(1, Math.round((plan.rate * plan.durationMs) / 1000 / plan.batchSize));
  const batchRate = plan.rate / plan.batchSize;
  const redisBefore = cpuOf();
  const generatorBefore = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  while (sent < batches) {
    const elapsed = performance.now() - started;
    const due = Math.min(batches, Math.floor((elapsed / 1000) * batchRate) + 1);
    for (; sent < due; sent++) {
      const batch = Array.from({ length: plan.batchSize }, (_, i) => sampleCommitted(sent * plan.batchSize + i));
      publisher.serverSideEmit('messages:committed', batch);
    }
    if (elapsed > plan.durationMs * 3) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const seconds = (performance.now() - started) / 1000;
  const published = sent * plan.batchSize;
  const expected = published * (nodes.length - 1);
  const receivedNow = () => nodes.slice(1).reduce((sum, n) => sum + n.received, 0);
  // Drain: until everything arrived, nothing moved for 500 ms, or 5 s passed.
  const drainDeadline = performance.now() + 5_000;
  let last = -1;
  let lastChange = performance.now();
  while (receivedNow() < expected && performance.now() < drainDeadline) {
    if (receivedNow() !== last) {
      last = receivedNow();
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 500) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const wall = (performance.now() - started) / 1000;
  const redisAfter = cpuOf();
  const generator = process.cpuUsage(generatorBefore);
  const everyShardCpuPercent = redisAfter.map((after, i) => {
    const busy = percentOf(after, redisBefore[i]!, wall);
    const idle = idleCpuPercent[i];
    return busy === null ? null : round(Math.max(0, busy - (idle ?? 0)), 1);
  });
  const shardCpu = everyShardCpuPercent[channelOwner] ?? null;
  const usPerMessage = shardCpu !== null && published > 0 ? round(((shardCpu / 100) * wall * 1e6) / published, 2) : null;
  const received = receivedNow();
  return {
    ...plan,
    published,
    received,
    receivedRatio: expected > 0 ? round(received / expected, 4) : 1,
    seconds: round(seconds, 2),
    messagesPerSec: Math.round(published / seconds),
    channelShardCpuPercent: shardCpu,
    channelShardCpuUsPerMessage: usPerMessage,
    everyShardCpuPercent,
    messagesPerSecAtFullCore: usPerMessage ? Math.round(1e6 / usPerMessage) : null,
    generatorCpuPercent: round(((generator.user + generator.system) / 1e6 / wall) * 100, 1),
  };
}

function percentOf(after: number | null, before: number | null, seconds: number): number | null {
  return after === null || before === null ? null : round(((after - before) / seconds) * 100, 1);
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
