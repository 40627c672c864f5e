import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { OnlineUser } from '../protocol.js';
import type { OnlineUsersPage, PresenceStore, WentOffline } from '../realtime/presence.js';
import type { RedisClient } from './redis.js';
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

// Shared Lua: how many of a (room, user) set's sockets live on a node whose
// heartbeat is still there. Dead nodes' members are not removed here: the
// sweeper removes them, so that the "went offline" moment is seen once.
const LIVE = `
local function live(key, prefix)
  local n = 0
  for _, member in ipairs(redis.call('SMEMBERS', key)) do
    local node = string.match(member, '^(.*)/')
    if redis.call('EXISTS', prefix .. ':node:' .. node) == 1 then n = n + 1 end
  end
  return n
end
`;

// KEYS: room hash, (room, user) socket set, node's socket index, room's user order
// ARGV: prefix, member, userId, username, index entry, node key, node ttl
const ADD = `
redis.call('SET', ARGV[6], '1', 'PX', ARGV[7])
redis.call('ZADD', KEYS[4], 0, ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[5])
return redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
`;

// KEYS: room hash, (room, user) socket set, node's socket index, room's user order
// ARGV: prefix, member, userId, index entry
// Returns the username when this was the user's last live socket in the room.
const REMOVE = `${LIVE}
redis.call('SREM', KEYS[3], ARGV[4])
if redis.call('SREM', KEYS[2], ARGV[2]) == 0 then return false end
if live(KEYS[2], ARGV[1]) > 0 then return false end
local name = redis.call('HGET', KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[3])
if redis.call('HDEL', KEYS[1], ARGV[3]) == 1 then return name end
return false
`;

// KEYS: room hash, room's user order; ARGV: prefix, roomId, after ('' for the start), limit, scan budget.
// Returns [count, nextCursor ('' at the end), userId, username, ...]: up to limit users with a live
// socket, in userId order. At most budget ids are looked at per call (a page after many dead-node
// entries comes back short, with a cursor to go on from), so no call holds Redis for long.
const PAGE = `${LIVE}
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
    if live(ARGV[1] .. ':presence:' .. ARGV[2] .. ':' .. id, ARGV[1]) > 0 then
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

// KEYS: room hash; ARGV: prefix, roomId. Returns [userId, username, ...] of users with a live socket.
const LIST = `${LIVE}
local out = {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if live(ARGV[1] .. ':presence:' .. ARGV[2] .. ':' .. entries[i], ARGV[1]) > 0 then
    table.insert(out, entries[i])
    table.insert(out, entries[i + 1])
  end
end
return out
`;

// KEYS: user's socket set, node's user-socket index, node key
// ARGV: prefix, member, max (0: no cap), index entry, node ttl
// Returns 1 when the socket was registered, 0 when the user has max live ones.
const OPEN = `${LIVE}
redis.call('SET', KEYS[3], '1', 'PX', ARGV[5])
local max = tonumber(ARGV[3])
if max > 0 and live(KEYS[1], ARGV[1]) >= max then return 0 end
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
return 1
`;

// KEYS: user's socket set, node's user-socket index; ARGV: member, index entry
const CLOSE = `
redis.call('SREM', KEYS[2], ARGV[2])
return redis.call('SREM', KEYS[1], ARGV[1])
`;

/** Entries read per SSCAN step of the live-socket sweep. */
const SWEEP_BATCH = 500;

/**
 * Cluster-wide presence in Redis. Layout, under the configured key prefix:
 *
 * - `presence:<room>` hash userId → username: who is online in the room;
 * - `presence-order:<room>` sorted set of the same userIds (all scored 0, so
 *   ordered by id): what `room:online` pages through with a cursor;
 * - `presence:<room>:<user>` set of `<node>/<socket>`: that user's sockets there,
 *   from every node (several devices count once);
 * - `node:<node>` a heartbeat with a TTL, refreshed every few seconds;
 * - `node-sockets:<node>` set of `<room> <user> <socket>`: what to clean when that node dies;
 * - `user-sockets:<user>` set of `<node>/<socket>`: the user's open /chat sockets
 *   on every node (the per-user socket cap counts those on live nodes);
 * - `node-user-sockets:<node>` set of `<user> <socket>`: their cleanup index;
 * - `nodes` set of node ids that may have left something behind.
 *
 * Add and remove are Lua scripts, so two nodes never both see "first" or
 * "last". Sockets of a node whose heartbeat expired stop counting at once, and
 * every live node sweeps dead nodes' sockets (one sweeper per dead node, by a
 * claim key), announcing `online: false` for users it leaves with none. Redis
 * errors are logged and degrade to "no presence change": a send or a join
 * never fails because Redis is away.
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

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    nodeId: string,
    private readonly logger: Logger,
    private readonly onOffline: OfflineListener,
    private readonly timing: PresenceTiming = DEFAULT_TIMING,
  ) {
    this.nodeId = `${nodeId}.${randomBytes(4).toString('hex')}`;
    this.heartbeat = setInterval(() => void this.track(this.beat()), timing.heartbeatMs);
    this.heartbeat.unref();
    void this.track(this.beat());
  }

  add(roomId: string, user: OnlineUser, socketId: string): Promise<boolean> {
    return this.guard('add', false, async () => {
      const reply = await this.redis.eval(ADD, {
        keys: [this.roomKey(roomId), this.userKey(roomId, user.userId), this.indexKey(this.nodeId), this.orderKey(roomId)],
        arguments: [this.prefix, `${this.nodeId}/${socketId}`, user.userId, user.username, `${roomId} ${user.userId} ${socketId}`, this.nodeKey(this.nodeId), String(this.timing.nodeTtlMs)],
      });
      return reply === 1;
    });
  }

  remove(roomId: string, userId: string, socketId: string): Promise<boolean> {
    return this.guard('remove', false, async () => (await this.removeMember(this.nodeId, roomId, userId, socketId)) !== null);
  }

  list(roomId: string): Promise<OnlineUser[]> {
    return this.guard('list', [], async () => {
      const reply = (await this.redis.eval(LIST, { keys: [this.roomKey(roomId)], arguments: [this.prefix, roomId] })) as string[];
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
      const reply = (await this.redis.eval(PAGE, {
        keys: [this.roomKey(roomId), this.orderKey(roomId)],
        arguments: [this.prefix, roomId, after ?? '', String(limit), String(limit * 2 + 100)],
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
      for await (const entries of this.redis.sScanIterator(this.indexKey(this.nodeId), { COUNT: SWEEP_BATCH })) {
        for (const entry of entries) {
          const [roomId, userId, socketId] = entry.split(' ');
          if (!roomId || !userId || !socketId || isLive(socketId)) continue;
          const username = await redisWithin(this.removeMember(this.nodeId, roomId, userId, socketId), OPERATION_TIMEOUT_MS);
          if (username !== null) offline.push({ roomId, user: { userId, username } });
        }
      }
    } catch (err) {
      this.logger.warn('presence sweep failed; Redis unavailable?', { err });
    }
    return offline;
  }

  openSocket(userId: string, socketId: string, max: number): Promise<boolean> {
    // Without Redis the cap cannot be counted: let the socket in (availability first), as presence degrades to "no change".
    return this.guard('openSocket', true, async () => {
      const reply = await this.redis.eval(OPEN, {
        keys: [this.userSocketsKey(userId), this.userIndexKey(this.nodeId), this.nodeKey(this.nodeId)],
        arguments: [this.prefix, `${this.nodeId}/${socketId}`, String(max), `${userId} ${socketId}`, String(this.timing.nodeTtlMs)],
      });
      return reply === 1;
    });
  }

  async closeSocket(userId: string, socketId: string): Promise<void> {
    await this.guard('closeSocket', undefined, async () => {
      await this.redis.eval(CLOSE, {
        keys: [this.userSocketsKey(userId), this.userIndexKey(this.nodeId)],
        arguments: [`${this.nodeId}/${socketId}`, `${userId} ${socketId}`],
      });
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
    const reply = await this.redis.eval(REMOVE, {
      keys: [this.roomKey(roomId), this.userKey(roomId, userId), this.indexKey(nodeId), this.orderKey(roomId)],
      arguments: [this.prefix, `${nodeId}/${socketId}`, userId, `${roomId} ${userId} ${socketId}`],
    });
    return typeof reply === 'string' ? reply : null;
  }

  private async beat(): Promise<void> {
    if (this.closed || this.beating || !this.redis.isReady) return;
    this.beating = true;
    try {
      await this.redis.set(this.nodeKey(this.nodeId), '1', { PX: this.timing.nodeTtlMs });
      await this.redis.sAdd(this.nodesKey(), this.nodeId);
      for (const node of await this.redis.sMembers(this.nodesKey())) {
        if (node !== this.nodeId && !(await this.redis.exists(this.nodeKey(node)))) await this.sweepNode(node);
      }
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

  private roomKey = (roomId: string) => `${this.prefix}:presence:${roomId}`;
  private orderKey = (roomId: string) => `${this.prefix}:presence-order:${roomId}`;
  private userKey = (roomId: string, userId: string) => `${this.prefix}:presence:${roomId}:${userId}`;
  private nodeKey = (nodeId: string) => `${this.prefix}:node:${nodeId}`;
  private indexKey = (nodeId: string) => `${this.prefix}:node-sockets:${nodeId}`;
  private nodesKey = () => `${this.prefix}:nodes`;
  private userSocketsKey = (userId: string) => `${this.prefix}:user-sockets:${userId}`;
  private userIndexKey = (nodeId: string) => `${this.prefix}:node-user-sockets:${nodeId}`;
}

function redisWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  return withTimeout(work, ms, `Redis gave no answer in ${ms} ms`);
}
