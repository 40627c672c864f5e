import { RateLimiterMemory, RateLimiterRedis, RLWrapperTimeouts } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../rate-limits.js';
import type { RedisClient } from './redis.js';

/** A Redis that does not answer within this (hung, or cut off without a reset) counts as away. */
const REDIS_TIMEOUT_MS = 500;

/**
 * Rate limits shared by every node through Redis. While Redis is away, or
 * does not answer in time, each node falls back to its own in-memory limiter
 * (the insurance), so sends and logins keep working, limited per node,
 * instead of failing or waiting.
 */
export function redisLimiters(redis: RedisClient, prefix: string): LimiterFactory {
  return (keyPrefix, points, duration) => {
    const insuranceLimiter = new RateLimiterMemory({ keyPrefix, points, duration });
    const shared = new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: true,
      // Refuse at once while disconnected rather than queue: the insurance answers.
      rejectIfRedisNotReady: true,
      keyPrefix: `${prefix}:rate:${keyPrefix}`,
      points,
      duration,
      insuranceLimiter,
    });
    // node-redis command timeouts stop counting once a command is written, so
    // a Redis that hangs mid-connection needs this wrapper's own timeout.
    return new RLWrapperTimeouts({ limiter: shared, timeoutMs: REDIS_TIMEOUT_MS, insuranceLimiter });
  };
}
