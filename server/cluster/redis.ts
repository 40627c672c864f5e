import { createClient, createCluster, type RedisClientType } from 'redis';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';

export type RedisClient = RedisClientType;

/**
 * The commands cluster-wide state uses, each naming the keys it touches, so
 * that they route on a Redis Cluster as on one instance. A single-instance
 * client and a cluster client both have them; a command outside this list
 * (a SCAN over every key, say) is not meant to be used on `data`.
 */
export type RedisData = Pick<RedisClientType, 'isReady' | 'isOpen' | 'eval' | 'set' | 'sAdd' | 'sRem' | 'sMembers' | 'sScan' | 'sCard' | 'exists' | 'del'>;

/** Where Redis is: one instance (REDIS_URL), or the seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = { url: string } | { clusterNodes: readonly string[] };

export const isClusterTarget = (target: RedisTarget): target is { clusterNodes: readonly string[] } => 'clusterNodes' in target;

/** The Redis channel prefix of the Socket.IO adapter; an emitter from another process must use the same. */
export const adapterKey = (keyPrefix: string) => `${keyPrefix}:socket.io`;

/** Longest wait between reconnection attempts; Redis coming back is noticed within this. */
const MAX_RECONNECT_DELAY_MS = 1_000;
/** Adapter publishes queued while Redis is away; beyond this they are refused rather than piling up. */
const MAX_QUEUED_COMMANDS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The Redis connections of one node: `pub` and `sub` for the Socket.IO
 * adapter, and `data` for the cluster-wide state (presence, rate limits).
 * `data` refuses commands at once while Redis is away (no offline queue), so
 * a send or a join never waits on a Redis outage; `pub` keeps a bounded
 * offline queue so that fan-out published during a short outage still goes
 * out (receivers put it back in order). Every client reconnects by itself,
 * forever, and its errors are logged, never thrown at the process.
 */
export interface RedisConnections {
  /** Whether these are Redis Cluster clients (keys hash-tagged, sharded pub/sub). */
  readonly cluster: boolean;
  readonly pub: RedisClient;
  readonly sub: RedisClient;
  readonly data: RedisData;
  /** Resolves when Redis answers a PING on the data connection. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function connectRedis(target: RedisTarget | string, logger: Logger, metrics?: Metrics): Promise<RedisConnections> {
  const where: RedisTarget = typeof target === 'string' ? { url: target } : target;
  const client = (role: string, offlineQueue: boolean): RedisClient => {
    const options = {
      name: `roomcast-${role}`,
      disableOfflineQueue: !offlineQueue,
      commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), MAX_RECONNECT_DELAY_MS),
      },
    };
    // A cluster client has every command the adapter and `data` use (each
    // routed by its key or channel to the slot's master), not the
    // single-instance-only ones; typed as one client so both kinds share the code.
    const redis = isClusterTarget(where)
      ? (createCluster({ rootNodes: where.clusterNodes.map((url) => ({ url })), defaults: options }) as unknown as RedisClient)
      : createClient({ url: where.url, ...options });
    watch(redis, role, logger, metrics);
    return redis;
  };
  const pub = client('pub', true);
  const sub = client('sub', true);
  const data = client('data', false);
  const clients = [pub, sub, data];
  try {
    await Promise.all(clients.map((c) => c.connect()));
  } catch (err) {
    await Promise.allSettled(clients.map(closeClient));
    throw err;
  }
  return {
    cluster: isClusterTarget(where),
    pub,
    sub,
    data,
    ping: async () => {
      // On a cluster this asks one node; a slot without a master shows in the commands that need it.
      await data.ping();
    },
    close: async () => {
      await Promise.allSettled(clients.map(closeClient));
    },
  };
}

const CLOSE_GRACE_MS = 2_000;

/**
 * Closes gracefully (pending replies first) when connected; a client that is
 * reconnecting would wait for Redis forever, so it is destroyed instead, as
 * is one whose graceful close takes too long.
 */
async function closeClient(client: RedisClient): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) return client.destroy();
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)));
  await Promise.race([client.close().catch(() => {}), grace]);
  clearTimeout(timer);
  if (client.isOpen) client.destroy();
}

/**
 * The adapter publishes, subscribes and unsubscribes and forgets (it never
 * handles those promises): while Redis is away they are refused, or queued
 * and refused when the client is closed, which would be unhandled rejections.
 * These views of the pub and sub clients log such refusals instead, at most
 * once per few seconds.
 */
export function adapterClients(redis: RedisConnections, logger: Logger, metrics?: Metrics): { pub: RedisClient; sub: RedisClient } {
  return {
    pub: forgivingView(redis.pub, ['publish', 'sPublish'], 'pub', logger, metrics),
    sub: forgivingView(redis.sub, ['subscribe', 'pSubscribe', 'sSubscribe', 'unsubscribe', 'pUnsubscribe', 'sUnsubscribe'], 'sub', logger, metrics),
  };
}

function forgivingView(client: RedisClient, methods: string[], role: string, logger: Logger, metrics?: Metrics): RedisClient {
  let lastLogged = 0;
  const refused = (method: string) => (err: unknown) => {
    metrics?.redisError(role === 'pub' ? 'publish' : role);
    if (Date.now() - lastLogged >= 5_000) {
      lastLogged = Date.now();
      logger.warn(`redis ${method} failed; other nodes may miss fan-out until Redis is back`, { err });
    }
    return 0;
  };
  const wrapped = new Map(
    methods.map((method) => {
      const original = Reflect.get(client, method, client) as (...args: unknown[]) => Promise<unknown>;
      return [method, (...args: unknown[]) => original.apply(client, args).catch(refused(method))] as const;
    }),
  );
  return new Proxy(client, {
    get(target, property) {
      const replacement = typeof property === 'string' ? wrapped.get(property) : undefined;
      if (replacement) return replacement;
      const value: unknown = Reflect.get(target, property, target);
      // node-redis keeps private fields: its methods must run on the client itself.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Logs a client's errors once per outage (a reconnect loop would repeat the
 * same error), and its recovery; counts every error and reconnection attempt.
 * A cluster client reports its masters' connections as `node-*` events: each
 * master is watched on its own (one down while the others answer is an outage).
 */
function watch(redis: RedisClient, role: string, logger: Logger, metrics?: Metrics): void {
  const down = new Set<string>();
  const failed = (where: string, err: unknown) => {
    metrics?.redisError(role);
    if (down.has(where)) return;
    down.add(where);
    logger.error('redis connection failed; reconnecting', { redis: role, ...(where ? { node: where } : {}), err });
  };
  const back = (where: string) => {
    if (!down.delete(where)) return;
    logger.info('redis connection is back', { redis: role, ...(where ? { node: where } : {}) });
  };
  const address = (info: unknown) => String((info as { host?: string; port?: number } | undefined)?.host ?? '') + ':' + String((info as { port?: number } | undefined)?.port ?? '');
  redis.on('reconnecting', () => metrics?.redisReconnect(role));
  redis.on('error', (err: unknown) => failed('', err));
  redis.on('ready', () => back(''));
  redis.on('node-reconnecting', () => metrics?.redisReconnect(role));
  redis.on('node-error', (err: unknown, info: unknown) => failed(address(info), err));
  redis.on('node-ready', (info: unknown) => back(address(info)));
}
