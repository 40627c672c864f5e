// Suite set-up for tests that run several nodes over the run's Redis: the
// suite skips (and says so, for CI) without Redis, uses its own key prefix,
// and deletes its keys afterwards.
import { randomUUID } from 'node:crypto';
import type { RoomcastApp } from '../../server/app.js';
import { environment } from './environment.js';
import { deleteRedisKeys } from './redis-keys.js';
import { hasRedisServer, startRedisCluster, type LocalRedisCluster } from './redis-cluster-server.js';
import { recordSkip } from './services.js';
import { closeAll, startNode } from './util.js';

export interface RedisCluster {
  /** Starts a node in this suite's cluster; `id` prefixes its NODE_ID. */
  node(id: string, env?: Record<string, string>): Promise<RoomcastApp>;
}

/** Call inside a `describe`: registers the before/after hooks and returns the node factory. */
export function useRedisCluster(suite: string): RedisCluster {
  // One key prefix per suite and run: nothing left in Redis meets another run.
  const prefix = `roomcast-test-${process.pid}-${randomUUID().slice(0, 8)}`;
  let redisUrl: string | null = null;

  before(function () {
    redisUrl = environment.get().services.redisUrl;
    if (!redisUrl) {
      recordSkip(suite, 'Redis');
      this.skip();
    }
  });
  afterEach(closeAll);
  after(async () => {
    if (redisUrl) await deleteRedisKeys(redisUrl, prefix);
  });

  return {
    node: (id, env = {}) =>
      startNode({ REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: prefix, NODE_ID: `${id}-${randomUUID().slice(0, 4)}`, MESSAGE_RATE_LIMIT: '0', ...env }),
  };
}

/**
 * Like useRedisCluster, over a real local Redis Cluster of three masters
 * started for the suite (see redis-cluster-server.ts) and given to the nodes
 * as REDIS_CLUSTER_NODES. Skipped, and recorded for CI to refuse, only where
 * redis-server is not installed.
 */
export function useShardedRedisCluster(suite: string, replicas = 0): RedisCluster & { readonly redis: LocalRedisCluster } {
  const prefix = `roomcast-test-${process.pid}-${randomUUID().slice(0, 8)}`;
  let redis: LocalRedisCluster | null = null;

  before(async function () {
    if (!hasRedisServer()) {
      recordSkip(suite, 'redis-server (for a local Redis Cluster)');
      this.skip();
    }
    this.timeout(30_000);
    redis = await startRedisCluster(3, replicas);
  });
  afterEach(closeAll);
  after(async () => {
    await redis?.stop();
  });

  return {
    get redis(): LocalRedisCluster {
      if (!redis) throw new Error('useShardedRedisCluster: the Redis Cluster starts in before()');
      return redis;
    },
    node: (id, env = {}) =>
      startNode({ REDIS_CLUSTER_NODES: redis!.nodes.join(','), REDIS_KEY_PREFIX: prefix, NODE_ID: `${id}-${randomUUID().slice(0, 4)}`, MESSAGE_RATE_LIMIT: '0', ...env }),
  };
}
