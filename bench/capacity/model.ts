// The capacity model of docs/capacity.md as arithmetic: per-unit costs
// measured on this machine in, a deployment's needs out. Pure functions, so
// the check (mixed-check.ts) predicts with exactly the model the document
// uses for a million sockets.

/** What one unit of work costs, in CPU µs of one core (and memory per socket). */
export interface UnitCosts {
  /** Node CPU to take one message:send: validate, group-commit round trip, ack, publish to the other nodes. */
  sendUs: number;
  /**
   * Node CPU per (message, node holding sockets of its room): the local
   * broadcast encodes the packet once per node, however many of its sockets
   * get it, so a room spread over many nodes pays this on each.
   */
  broadcastUs: number;
  /** Node CPU per message:new frame written to one socket. */
  deliveryUs: number;
  /** Node CPU per message committed on another node and received through Redis (every node receives every message). */
  remoteUs: number;
  /** PostgreSQL CPU per stored message (group commit; backends, WAL writer and checkpointer). */
  postgresUs: number;
  /** Redis CPU per published message on the shard of the fan-out channel: a fixed part plus a part per subscribing node. */
  redisFixedUs: number;
  redisPerNodeUs: number;
  /** Resident memory per idle authenticated socket, KB. */
  socketKb: number;
}

export interface RoomClass {
  name: string;
  /** Share of all messages sent in rooms of this class (the shares add up to 1). */
  messageShare: number;
  /** Sockets online in such a room, the sender's included. */
  onlineMembers: number;
}

export interface Workload {
  sockets: number;
  messagesPerSec: number;
  rooms: readonly RoomClass[];
}

/** Deliveries per message: Σ share × (online members − 1); the sender's own socket gets its ack, not a message:new. */
export function fanoutFactor(rooms: readonly RoomClass[]): number {
  return rooms.reduce((sum, room) => sum + room.messageShare * Math.max(0, room.onlineMembers - 1), 0);
}

/** Expected number of nodes holding at least one of `members` sockets spread evenly at random over `nodes`. */
export function nodesTouched(nodes: number, members: number): number {
  return nodes * (1 - (1 - 1 / nodes) ** members);
}

export interface NodeLoad {
  sends: number;
  /** Messages broadcast to this node's sockets of their room (one per message and node, however many sockets). */
  broadcasts: number;
  deliveries: number;
  /** Messages committed elsewhere that reach this node through Redis. */
  remote: number;
  /** Idle CPU, in % of one core (timers, heartbeats, sockets' pings), measured. */
  idlePercent?: number;
}

/** Predicted node CPU, % of one core. */
export function nodeCpuPercent(units: UnitCosts, load: NodeLoad): number {
  return (load.idlePercent ?? 0) + (load.sends * units.sendUs + load.broadcasts * units.broadcastUs + load.deliveries * units.deliveryUs + load.remote * units.remoteUs) / 1e4;
}

/** The fan-out channel's shard with today's one channel per namespace: every message to every node. */
export function redisShardCpuPercent(units: UnitCosts, messagesPerSec: number, nodes: number): number {
  return (messagesPerSec * (units.redisFixedUs + units.redisPerNodeUs * nodes)) / 1e4;
}

export interface DeploymentPlan {
  channels: FanoutChannels;
  fanout: number;
  deliveriesPerSec: number;
  /** Whether any node count keeps a node under the CPU target (not when remote messages alone exceed it). */
  feasible: boolean;
  /** Node cores (one node process per core) and what bounds their number. */
  nodes: number;
  nodesBoundBy: 'cpu' | 'memory';
  /** CPU of one node at that count, % of one core. */
  nodeCpuPercent: number;
  socketsPerNode: number;
  /** Of a node's CPU, the share spent on messages committed elsewhere. */
  remoteSharePercent: number;
  /** Redis CPU for the fan-out, % of one core, all shards together; with one channel (today) it is all on one shard. */
  redisCpuPercent: number;
  /** Shards the fan-out needs at the CPU target; the one /chat channel can use only one, so above 1 it does not fit. */
  redisShards: number;
  postgresCores: number;
}

export interface PlanLimits {
  /** Highest CPU a node, a Redis shard or a PostgreSQL core may run at: the rest is headroom for bursts and failover. */
  targetCpuPercent: number;
  /** Memory one node process may hold for its sockets, MB. */
  socketMemoryMb: number;
}

/**
 * How committed messages reach the other nodes. `namespace`: today's one
 * /chat channel (the sharded adapter's static mode), which every node
 * subscribes to, so every node receives every message and one shard carries
 * them all. `room`: a channel per room spread over the shards by slot, which
 * only the nodes holding sockets of the room subscribe to (the change
 * docs/design.md "Redis Cluster" names).
 */
export type FanoutChannels = 'namespace' | 'room';

/**
 * Smallest node count N whose per-node CPU stays under the target and whose
 * sockets fit in memory. Sockets, senders and members spread evenly over
 * nodes (a sticky balancer hashing clients, rooms not placed), so a room's
 * deliveries split over the nodes its members touch.
 */
export function planDeployment(units: UnitCosts, workload: Workload, limits: PlanLimits, channels: FanoutChannels = 'namespace'): DeploymentPlan {
  const fanout = fanoutFactor(workload.rooms);
  const rate = workload.messagesPerSec;
  const deliveriesPerSec = rate * fanout;
  const byMemory = Math.ceil((workload.sockets * units.socketKb) / 1024 / limits.socketMemoryMb);
  const touched = (nodes: number) => workload.rooms.reduce((sum, room) => sum + room.messageShare * nodesTouched(nodes, room.onlineMembers), 0);
  const loadOn = (nodes: number): NodeLoad => ({
    sends: rate / nodes,
    broadcasts: (rate * touched(nodes)) / nodes,
    deliveries: deliveriesPerSec / nodes,
    // Every other node (namespace channel), or the other nodes holding the room (room channels).
    remote: channels === 'namespace' ? (rate * (nodes - 1)) / nodes : (rate * Math.max(0, touched(nodes) - 1)) / nodes,
  });
  let nodes = Math.max(1, byMemory);
  // Bounded: one more node at a time, up to 100,000.
  while (nodes < 100_000 && nodeCpuPercent(units, loadOn(nodes)) > limits.targetCpuPercent) nodes++;
  const load = loadOn(nodes);
  const cpu = nodeCpuPercent(units, load);
  // Redis: each message published once, copied to each subscribing node.
  const subscribers = channels === 'namespace' ? nodes : touched(nodes);
  const redisCpuPercent = (rate * (units.redisFixedUs + units.redisPerNodeUs * subscribers)) / 1e4;
  return {
    channels,
    fanout,
    deliveriesPerSec,
    feasible: cpu <= limits.targetCpuPercent,
    nodes,
    nodesBoundBy: nodes > byMemory ? 'cpu' : 'memory',
    nodeCpuPercent: cpu,
    socketsPerNode: Math.ceil(workload.sockets / nodes),
    remoteSharePercent: ((load.remote * units.remoteUs) / 1e4 / cpu) * 100,
    redisCpuPercent,
    redisShards: Math.max(1, Math.ceil(redisCpuPercent / limits.targetCpuPercent)),
    postgresCores: (rate * units.postgresUs) / 1e6 / (limits.targetCpuPercent / 100),
  };
}
