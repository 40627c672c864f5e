import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { OnlineUser } from '../protocol.js';
import type { OnlineUsersPage, PresenceStore, WentOffline } from '../realtime/presence.js';
import type { RedisData } from './redis.js';
import { withTimeout } from '../with-timeout.js';

export interface PresenceTiming {
  /** A node that has not refreshed its heartbeat for this long is taken for dead. */
  nodeTtlMs: number;
  /** How often a node refreshes its heartbeat and looks for dead nodes to sweep. */
  heartbeatMs: number;
}

const DEFAULT_TIMING: PresenceTiming = { nodeTtlMs: 15_000, heartbeatMs: 5_000 };
/**
 * A presence update that Redis has not answered by then is given up (and
 * logged): node-redis waits forever on a Redis that hangs mid-connection,
 * and a join must not.
 */
const OPERATION_TIMEOUT_MS = 1_000;

/** Called when a dead node's sockets were the last of a user in a room. */
export type OfflineListener = (roomId: string, user: OnlineUser) => void;

/**
 * How a node tells whether another node is alive. `heartbeat` (one Redis):
 * the scripts look at each node's heartbeat key, so a node whose heartbeat
 * expired stops counting at once. `view` (Redis Cluster, where a script may
 * only touch keys of its own slot): the caller passes the nodes its last
 * heartbeat round found dead, so such a node stops counting within one
 * heartbeat interval more.
 */
export type Liveness = 'heartbeat' | 'view';

// Shared Lua: how many sockets of a user (members `<user> <node>/<socket>` of
// a room's socket index, or `<node>/<socket>` of a user's socket set) live on
// a node that is alive. ARGV[1] is the key prefix, ARGV[2] the dead nodes
// (newline-separated; `view` only). Dead nodes' members are not removed here:
// the sweeper removes them, so that the "went offline" moment is seen once.
const liveFunctions = (liveness: Liveness) => `
local dead = {}
for node in string.gmatch(ARGV[2], '[^\\n]+') do dead[node] = true end
local function alive(node)
  ${liveness === 'heartbeat' ? "return redis.call('EXISTS', ARGV[1] .. ':node:' .. node) == 1" : 'return not dead[node]'}
end
local function count(members)
  local n = 0
  for _, member in ipairs(members) do
    local node = string.match(member, '([^ ]*)/[^/]*$')
    if node and alive(node) then n = n + 1 end
  end
  return n
end
local function live_in_room(sockets, user)
  return count(redis.call('ZRANGEBYLEX', sockets, '[' .. user .. ' ', '(' .. user .. '!'))
end
`;

// KEYS: room hash, room's socket index, room's user order
// ARGV: userId, username, socket index member
const ADD = `
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
`;

// KEYS: room hash, room's socket index, room's user order
// ARGV: prefix, dead nodes, userId, socket index member
// Returns the username when this was the user's last live socket in the room.
const remove = (liveness: Liveness) => `${liveFunctions(liveness)}
if redis.call('ZREM', KEYS[2], ARGV[4]) == 0 then return false end
if live_in_room(KEYS[2], ARGV[3]) > 0 then return false end
local name = redis.call('HGET', KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
if redis.call('HDEL', KEYS[1], ARGV[3]) == 1 then return name end
return false
`;

// KEYS: room hash, room's user order, room's socket index
// ARGV: prefix, dead nodes, after ('' for the start), limit, scan budget.
// Returns [count, nextCursor ('' at the end), userId, username, ...]: up to limit users with a live
// socket, in userId order. At most budget ids are looked at per call (a page after many dead-node
// entries comes back short, with a cursor to go on from), so no call holds Redis for long.
const page = (liveness: Liveness) => `${liveFunctions(liveness)}
local res = {redis.call('HLEN', KEYS[1]), ''}
local limit = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local from = '-'
if ARGV[3] ~= '' then from = '(' .. ARGV[3] end
local n = 0
while budget > 0 do
  local ids = redis.call('ZRANGEBYLEX', KEYS[2], from, '+', 'LIMIT', 0, math.min(budget, limit - n + 1))
  if #ids == 0 then return res end
  for _, id in ipairs(ids) do
    if n == limit then
      res[2] = res[#res - 1]
      return res
    end
    budget = budget - 1
    from = '(' .. id
    if live_in_room(KEYS[3], id) > 0 then
      local name = redis.call('HGET', KEYS[1], id)
      if name then
        table.insert(res, id)
        table.insert(res, name)
        n = n + 1
      end
    end
  end
end
res[2] = string.sub(from, 2)
return res
`;

// KEYS: room hash, room's socket index; ARGV: prefix, dead nodes.
// Returns [userId, username, ...] of users with a live socket.
const list = (liveness: Liveness) => `${liveFunctions(liveness)}
local out = {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if live_in_room(KEYS[2], entries[i]) > 0 then
    table.insert(out, entries[i])
    table.insert(out, entries[i + 1])
  end
end
return out
`;

// KEYS: user's socket set; ARGV: prefix, dead nodes, member, max (0: no cap)
// Returns 1 when the socket was registered, 0 when the user has max live ones.
const open = (liveness: Liveness) => `${liveFunctions(liveness)}
local max = tonumber(ARGV[4])
if max > 0 and count(redis.call('SMEMBERS', KEYS[1])) >= max then return 0 end
redis.call('SADD', KEYS[1], ARGV[3])
return 1
`;

/** Entries read per SSCAN step of the live-socket sweep. */
const SWEEP_BATCH = 500;

/**
 * Cluster-wide presence in Redis. Layout, under the configured key prefix
 * (`{room}` is a hash tag: a room's keys share one slot of a Redis Cluster,
 * so each script names every key it touches and runs on one shard):
 *
 * - `presence:{<room>}` hash userId → username: who is online in the room;
 * - `presence-order:{<room>}` sorted set of the same userIds (all scored 0, so
 *   ordered by id): what `room:online` pages through with a cursor;
 * - `presence-sockets:{<room>}` sorted set (all scored 0) of `<user> <node>/<socket>`:
 *   every user's sockets there, from every node (several devices count once),
 *   a user's read as one lexicographic range;
 * - `node:<node>` a heartbeat with a TTL, refreshed every few seconds;
 * - `node-sockets:<node>` set of `<room> <user> <socket>`: what to clean when that node dies;
 * - `user-sockets:<user>` set of `<node>/<socket>`: the user's open /chat sockets
 *   on every node (the per-user socket cap counts those on live nodes);
 * - `node-user-sockets:<node>` set of `<user> <socket>`: their cleanup index;
 * - `nodes` set of node ids that may have left something behind.
 *
 * Add and remove are Lua scripts, so two nodes never both see "first" or
 * "last". The per-node cleanup indexes live in their node's slot, apart from
 * the rooms: they are written next to the script (an entry may outlive its
 * socket, never the other way round) and the sweep tolerates stale ones.
 * Sockets of a dead node stop counting (see Liveness), and every live node
 * sweeps dead nodes' sockets (one sweeper per dead node, by a claim key),
 * announcing `online: false` for users it leaves with none. Redis errors are
 * logged and degrade to "no presence change": a send or a join never fails
 * because Redis is away.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly heartbeat: NodeJS.Timeout;
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;
  /** A heartbeat still waiting on Redis (a hung one must not pile up others behind it). */
  private beating = false;
  /**
   * This process's name in Redis: NODE_ID plus a random part, so a node
   * restarted under the same NODE_ID never counts the sockets its previous
   * life left behind; those are swept like any dead node's.
   */
  private readonly nodeId: string;
  /** Nodes the last heartbeat round found without a heartbeat (`view` liveness passes them to the scripts). */
  private deadNodes: string[] = [];
  private readonly scripts: { remove: string; page: string; list: string; open: string };

  constructor(
    private readonly redis: RedisData,
    private readonly prefix: string,
    nodeId: string,
    private readonly logger: Logger,
    private readonly onOffline: OfflineListener,
    private readonly timing: PresenceTiming = DEFAULT_TIMING,
    private readonly liveness: Liveness = 'heartbeat',
  ) {
    this.nodeId = `${nodeId}.${randomBytes(4).toString('hex')}`;
    this.scripts = { remove: remove(liveness), page: page(liveness), list: list(liveness), open: open(liveness) };
    this.heartbeat = setInterval(() => void this.track(this.beat()), timing.heartbeatMs);
    this.heartbeat.unref();
    void this.track(this.beat());
  }

  add(roomId: string, user: OnlineUser, socketId: string): Promise<boolean> {
    return this.guard('add', false, async () => {
      // Sent together (one round trip on one Redis): the heartbeat and the cleanup entry go first.
      const [, , reply] = await Promise.all([
        this.refreshHeartbeat(),
        this.redis.sAdd(this.indexKey(this.nodeId), `${roomId} ${user.userId} ${socketId}`),
        this.redis.eval(ADD, {
          keys: [this.roomKey(roomId), this.socketsKey(roomId), this.orderKey(roomId)],
          arguments: [user.userId, user.username, this.socketMember(this.nodeId, user.userId, socketId)],
        }),
      ]);
      return reply === 1;
    });
  }

  remove(roomId: string, userId: string, socketId: string): Promise<boolean> {
    return this.guard('remove', false, async () => (await this.removeMember(this.nodeId, roomId, userId, socketId)) !== null);
  }

  list(roomId: string): Promise<OnlineUser[]> {
    return this.guard('list', [], async () => {
      const reply = (await this.redis.eval(this.scripts.list, { keys: [this.roomKey(roomId), this.socketsKey(roomId)], arguments: [this.prefix, this.dead()] })) as string[];
      const users: OnlineUser[] = [];
      for (let i = 0; i + 1 < reply.length; i += 2) users.push({ userId: reply[i]!, username: reply[i + 1]! });
      return users;
    });
  }

  /**
   * `count` is the hash's size: a user whose sockets were all on a node that
   * died is counted until that node is swept (seconds); the list itself skips them.
   */
  page(roomId: string, after: string | null, limit: number): Promise<OnlineUsersPage> {
    return this.guard('page', { online: [], nextCursor: null, count: 0 }, async () => {
      const reply = (await this.redis.eval(this.scripts.page, {
        keys: [this.roomKey(roomId), this.orderKey(roomId), this.socketsKey(roomId)],
        arguments: [this.prefix, this.dead(), after ?? '', String(limit), String(limit * 2 + 100)],
      })) as unknown[];
      const online: OnlineUser[] = [];
      for (let i = 2; i + 1 < reply.length; i += 2) online.push({ userId: String(reply[i]), username: String(reply[i + 1]) });
      return { online, nextCursor: reply[1] ? String(reply[1]) : null, count: Number(reply[0]) };
    });
  }

  async sweep(isLive: (socketId: string) => boolean): Promise<WentOffline[]> {
    const offline: WentOffline[] = [];
    if (this.closed) return offline;
    try {
      // SSCAN, not SMEMBERS: a node with many sockets is read in steps, not in one long reply.
      let cursor = '0';
      do {
        const step = await this.redis.sScan(this.indexKey(this.nodeId), cursor, { COUNT: SWEEP_BATCH });
        cursor = String(step.cursor);
        for (const entry of step.members) {
          const [roomId, userId, socketId] = entry.split(' ');
          if (!roomId || !userId || !socketId || isLive(socketId)) continue;
          const username = await redisWithin(this.removeMember(this.nodeId, roomId, userId, socketId), OPERATION_TIMEOUT_MS);
          if (username !== null) offline.push({ roomId, user: { userId, username } });
        }
      } while (cursor !== '0');
    } catch (err) {
      this.logger.warn('presence sweep failed; Redis unavailable?', { err });
    }
    return offline;
  }

  openSocket(userId: string, socketId: string, max: number): Promise<boolean> {
    // Without Redis the cap cannot be counted: let the socket in (availability first), as presence degrades to "no change".
    return this.guard('openSocket', true, async () => {
      const [, , reply] = await Promise.all([
        this.refreshHeartbeat(),
        this.redis.sAdd(this.userIndexKey(this.nodeId), `${userId} ${socketId}`),
        this.redis.eval(this.scripts.open, {
          keys: [this.userSocketsKey(userId)],
          arguments: [this.prefix, this.dead(), `${this.nodeId}/${socketId}`, String(max)],
        }),
      ]);
      return reply === 1;
    });
  }

  async closeSocket(userId: string, socketId: string): Promise<void> {
    await this.guard('closeSocket', undefined, async () => {
      await Promise.all([this.redis.sRem(this.userSocketsKey(userId), `${this.nodeId}/${socketId}`), this.redis.sRem(this.userIndexKey(this.nodeId), `${userId} ${socketId}`)]);
    });
  }

  /** Stops the heartbeat, waits (briefly) for updates in flight, and drops this node's heartbeat so others sweep at once. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    await redisWithin(Promise.allSettled([...this.pending]), 2 * OPERATION_TIMEOUT_MS).catch(() => {});
    await redisWithin(this.redis.del(this.nodeKey(this.nodeId)), OPERATION_TIMEOUT_MS).catch(() => {});
  }

  private async removeMember(nodeId: string, roomId: string, userId: string, socketId: string): Promise<string | null> {
    const [reply] = await Promise.all([
      this.redis.eval(this.scripts.remove, {
        keys: [this.roomKey(roomId), this.socketsKey(roomId), this.orderKey(roomId)],
        arguments: [this.prefix, this.dead(), userId, this.socketMember(nodeId, userId, socketId)],
      }),
      this.redis.sRem(this.indexKey(nodeId), `${roomId} ${userId} ${socketId}`),
    ]);
    return typeof reply === 'string' ? reply : null;
  }

  private refreshHeartbeat(): Promise<unknown> {
    return this.redis.set(this.nodeKey(this.nodeId), '1', { PX: this.timing.nodeTtlMs });
  }

  /** The dead nodes as the scripts take them (`view` liveness; ignored under `heartbeat`). */
  private dead(): string {
    return this.liveness === 'view' ? this.deadNodes.join('\n') : '';
  }

  private async beat(): Promise<void> {
    if (this.closed || this.beating || !this.redis.isReady) return;
    this.beating = true;
    try {
      await this.refreshHeartbeat();
      await this.redis.sAdd(this.nodesKey(), this.nodeId);
      const dead: string[] = [];
      for (const node of await this.redis.sMembers(this.nodesKey())) {
        if (node !== this.nodeId && !(await this.redis.exists(this.nodeKey(node)))) dead.push(node);
      }
      this.deadNodes = dead;
      for (const node of dead) await this.sweepNode(node);
    } catch (err) {
      this.logger.warn('presence heartbeat failed', { err });
    } finally {
      this.beating = false;
    }
  }

  /** Removes a dead node's sockets, announcing users that are left with none. One sweeper per dead node. */
  private async sweepNode(deadNode: string): Promise<void> {
    const claimed = await this.redis.set(`${this.prefix}:sweep:${deadNode}`, this.nodeId, { NX: true, PX: this.timing.nodeTtlMs * 2 });
    if (claimed === null) return;
    const entries = await this.redis.sMembers(this.indexKey(deadNode));
    for (const entry of entries) {
      const [roomId, userId, socketId] = entry.split(' ');
      if (!roomId || !userId || !socketId) continue;
      const username = await this.removeMember(deadNode, roomId, userId, socketId);
      if (username !== null) this.onOffline(roomId, { userId, username });
    }
    await this.redis.del(this.indexKey(deadNode));
    const userEntries = await this.redis.sMembers(this.userIndexKey(deadNode));
    for (const entry of userEntries) {
      const [userId, socketId] = entry.split(' ');
      if (userId && socketId) await this.redis.sRem(this.userSocketsKey(userId), `${deadNode}/${socketId}`);
    }
    await this.redis.del(this.userIndexKey(deadNode));
    await this.redis.sRem(this.nodesKey(), deadNode);
    if (entries.length > 0) this.logger.info('swept the presence of a node that is gone', { deadNode, sockets: entries.length });
  }

  private async guard<T>(operation: string, fallback: T, work: () => Promise<T>): Promise<T> {
    const run = redisWithin(work(), OPERATION_TIMEOUT_MS).catch((err: unknown) => {
      this.logger.warn('presence update failed; Redis unavailable?', { operation, err });
      return fallback;
    });
    return this.track(run);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return work;
  }

  private socketMember = (nodeId: string, userId: string, socketId: string) => `${userId} ${nodeId}/${socketId}`;
  private roomKey = (roomId: string) => `${this.prefix}:presence:{${roomId}}`;
  private orderKey = (roomId: string) => `${this.prefix}:presence-order:{${roomId}}`;
  private socketsKey = (roomId: string) => `${this.prefix}:presence-sockets:{${roomId}}`;
  private nodeKey = (nodeId: string) => `${this.prefix}:node:${nodeId}`;
  private indexKey = (nodeId: string) => `${this.prefix}:node-sockets:${nodeId}`;
  private nodesKey = () => `${this.prefix}:nodes`;
  private userSocketsKey = (userId: string) => `${this.prefix}:user-sockets:${userId}`;
  private userIndexKey = (nodeId: string) => `${this.prefix}:node-user-sockets:${nodeId}`;
}

function redisWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  return withTimeout(work, ms, `Redis gave no answer in ${ms} ms`);
}
