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

export function redisShardCpuPercent(units: UnitCosts, messagesPerSec: number, nodes: number): number {
  return (messagesPerSec * (units.redisFixedUs + units.redisPerNodeUs * nodes)) / 1e4;
}

export interface DeploymentPlan {
  fanout: number;
  deliveriesPerSec: number;
  /** Node cores (one node process per core) and what bounds their number. */
  nodes: number;
  nodesBoundBy: 'cpu' | 'memory';
  /** CPU of one node at that count, % of one core. */
  nodeCpuPercent: number;
  socketsPerNode: number;
  /** Of a node's CPU, the share spent on messages committed elsewhere (grows with the node count). */
  remoteSharePercent: number;
  /** The fan-out channel's shard: all of /chat crosses it (static sharded mode). */
  redisShardCpuPercent: number;
  postgresCores: number;
}

export interface PlanLimits {
  /** Highest CPU a node, a Redis shard or a PostgreSQL core may run at: the rest is headroom for bursts and failover. */
  targetCpuPercent: number;
  /** Memory one node process may hold for its sockets, MB. */
  socketMemoryMb: number;
}

/**
 * Smallest node count N whose per-node CPU, with every node receiving every
 * message, stays under the target, and whose sockets fit in memory. Sockets,
 * senders and members spread evenly over nodes (a sticky balancer hashing
 * clients, rooms not placed), so a room's deliveries split over all nodes.
 */
export function planDeployment(units: UnitCosts, workload: Workload, limits: PlanLimits): DeploymentPlan {
  const fanout = fanoutFactor(workload.rooms);
  const deliveriesPerSec = workload.messagesPerSec * fanout;
  const byMemory = Math.ceil((workload.sockets * units.socketKb) / 1024 / limits.socketMemoryMb);
  const loadOn = (nodes: number): NodeLoad => ({
    sends: workload.messagesPerSec / nodes,
    broadcasts: (workload.messagesPerSec * workload.rooms.reduce((sum, room) => sum + room.messageShare * nodesTouched(nodes, room.onlineMembers), 0)) / nodes,
    deliveries: deliveriesPerSec / nodes,
    remote: (workload.messagesPerSec * (nodes - 1)) / nodes,
  });
  let nodes = 1;
  // Bounded: past 100,000 nodes the remote share alone exceeds the target.
  while (nodes < 100_000 && nodeCpuPercent(units, loadOn(nodes)) > limits.targetCpuPercent) nodes++;
  const byCpu = nodes;
  nodes = Math.max(byCpu, byMemory);
  const load = loadOn(nodes);
  const cpu = nodeCpuPercent(units, load);
  return {
    fanout,
    deliveriesPerSec,
    nodes,
    nodesBoundBy: byCpu >= byMemory ? 'cpu' : 'memory',
    nodeCpuPercent: cpu,
    socketsPerNode: Math.ceil(workload.sockets / nodes),
    remoteSharePercent: ((load.remote * units.remoteUs) / 1e4 / cpu) * 100,
    redisShardCpuPercent: redisShardCpuPercent(units, workload.messagesPerSec, nodes),
    postgresCores: (workload.messagesPerSec * units.postgresUs) / 1e6 / (limits.targetCpuPercent / 100),
  };
}
