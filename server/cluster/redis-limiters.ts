import { RateLimiterMemory, RateLimiterRedis, RLWrapperTimeouts, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../rate-limits.js';
import type { RedisData } from './redis.js';

/** A Redis that does not answer within this (hung, or cut off without a reset) counts as away. */
const REDIS_TIMEOUT_MS = 500;

/**
 * Rate limits shared by every node through Redis. While Redis is away, or
 * does not answer in time, each node falls back to its own in-memory limiter
 * (the insurance), so sends and logins keep working, limited per node,
 * instead of failing or waiting.
 */
export function redisLimiters(redis: RedisData, prefix: string): LimiterFactory {
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
    return new LoopAwareTimeouts(shared, insuranceLimiter);
  };
}

type LimiterCall = (...args: unknown[]) => Promise<unknown>;

/**
 * RLWrapperTimeouts whose timeout counts only once the event loop has read
 * what arrived meanwhile. Its timer and Redis's reply share this process's
 * loop: when a busy node's loop stalls past the timeout (a login storm on a
 * starved CPU), the timers phase ran first and the limit fell back to the
 * per-node insurance although Redis had answered in time, so 30 parallel
 * guesses over two nodes were checked up to 17 times instead of 10. Deferring
 * the timeout by one setImmediate lets the poll phase deliver a reply that is
 * already there; a Redis that really hangs still times out.
 */
class LoopAwareTimeouts extends RLWrapperTimeouts {
  constructor(
    private readonly shared: RateLimiterAbstract,
    insuranceLimiter: RateLimiterAbstract,
  ) {
    super({ limiter: shared, timeoutMs: REDIS_TIMEOUT_MS, insuranceLimiter });
  }

  /** Overrides the wrapper's runner (rate-limiter-flexible 11: every call goes through `_run(name, params)`). */
  _run(funcName: string, params: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        finish();
      };
      const timer = setTimeout(() => setImmediate(() => settle(() => reject(new Error('Operation timed out')))), REDIS_TIMEOUT_MS);
      const call = (this.shared as unknown as Record<string, LimiterCall>)[funcName]!.bind(this.shared);
      call(...params).then(
        (result) => settle(() => resolve(result)),
        (err: unknown) => settle(() => reject(err)),
      );
    });
  }
}
