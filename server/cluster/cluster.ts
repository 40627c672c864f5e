import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { Config } from '../config.js';
import type { ReadinessCheck } from '../http/routes/health-routes.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { memoryLimiters, type LimiterFactory } from '../rate-limits.js';
import { roomChannel } from '../realtime/channels.js';
import { MemoryPresenceStore, type PresenceStore } from '../realtime/presence.js';
import type { ChatNamespace, RoomcastServer } from '../realtime/types.js';
import { adapterClients, adapterKey, connectRedis, type RedisConnections, type RedisTarget } from './redis.js';
import { redisLimiters } from './redis-limiters.js';
import { RedisPresenceStore } from './redis-presence.js';

/**
 * What changes between one node and a cluster: the Socket.IO adapter, where
 * presence and rate limits live, and whether commits are told to other nodes.
 */
export interface ClusterSetup {
  /** Whether other nodes may exist (a Redis adapter is in place). */
  readonly clustered: boolean;
  readonly limiters: LimiterFactory;
  readonly presence: PresenceStore;
  readonly readiness: ReadinessCheck[];
  /** Call after io.close(): waits for presence updates, then closes Redis. */
  close(): Promise<void>;
}

/** Without REDIS_URL: the in-memory adapter, presence and limits, exactly as a single node. */
export function singleNode(): ClusterSetup {
  return { clustered: false, limiters: memoryLimiters, presence: new MemoryPresenceStore(), readiness: [], close: async () => {} };
}

/** Where Redis is, from the configuration: REDIS_URL or REDIS_CLUSTER_NODES; null without either. */
export function redisTarget(config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): RedisTarget | null {
  if (config.redisClusterNodes) return { clusterNodes: config.redisClusterNodes };
  return config.redisUrl ? { url: config.redisUrl } : null;
}

/**
 * The Socket.IO adapter over `redis`: the sharded one on a Redis Cluster, the
 * classic one on a single Redis (why static mode: joinCluster below). The
 * capacity benchmark (bench/capacity/) measures Redis through this very adapter.
 */
export function redisAdapter(
  redis: RedisConnections,
  prefix: string,
  logger: Logger,
  metrics?: Metrics,
): ReturnType<typeof createAdapter> | ReturnType<typeof createShardedAdapter> {
  const adapter = adapterClients(redis, logger, metrics);
  return redis.cluster
    ? createShardedAdapter(adapter.pub, adapter.sub, { channelPrefix: adapterKey(prefix), subscriptionMode: 'static' })
    : createAdapter(adapter.pub, adapter.sub, { key: adapterKey(prefix), publishOnSpecificResponseChannel: true });
}

/**
 * Connects Redis and installs the Redis adapter on `io`. Call before any
 * namespace is created, so each one starts on the Redis adapter.
 *
 * On a Redis Cluster the adapter is the sharded one (Redis 7 SSUBSCRIBE /
 * SPUBLISH): a channel lives on the shard of its slot, and a publish reaches
 * that shard only instead of every shard of the cluster. It runs in "static"
 * mode: one channel per namespace carries all of a namespace's broadcasts, so
 * what one node publishes arrives in the order it was published, as on one
 * Redis (a ban's `session:revoked` before its disconnect, a kick's leave before
 * the next message). "dynamic" mode (a channel per room) would spread room
 * broadcasts over the shards but gives no order between a room's channel and
 * the namespace's; the committed-message batches, the bulk of the traffic, go
 * through the namespace channel in either mode (docs/design.md).
 */
export async function joinCluster(
  io: RoomcastServer,
  config: Config,
  target: RedisTarget,
  logger: Logger,
  metrics?: Metrics,
): Promise<{ attach(chat: ChatNamespace): ClusterSetup }> {
  const redis = await connectRedis(target, logger, metrics);
  const prefix = config.redisKeyPrefix;
  io.adapter(redisAdapter(redis, prefix, logger, metrics));
  return {
    attach(chat) {
      const presence = new RedisPresenceStore(
        redis.data,
        prefix,
        config.nodeId,
        logger,
        (roomId, user) => chat.to(roomChannel(roomId)).emit('presence', { roomId, ...user, online: false }),
        undefined,
        redis.cluster ? 'view' : 'heartbeat',
      );
      return {
        clustered: true,
        limiters: redisLimiters(redis.data, prefix),
        presence,
        readiness: [{ name: 'redis', check: redis.ping }],
        close: async () => {
          await presence.close();
          await redis.close();
        },
      };
    },
  };
}
