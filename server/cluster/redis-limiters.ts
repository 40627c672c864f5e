import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../rate-limits.js';
import type { RedisClient } from './redis.js';

/**
 * Rate limits shared by every node through Redis. While Redis is away each
 * node falls back to its own in-memory limiter (the insurance), so sends and
 * logins keep working, limited per node, instead of failing or waiting.
 */
export function redisLimiters(redis: RedisClient, prefix: string): LimiterFactory {
  return (keyPrefix, points, duration) =>
    new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      keyPrefix: `${prefix}:rate:${keyPrefix}`,
      points,
      duration,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
    });
}
