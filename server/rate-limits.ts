import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from './config.js';
import { AppError } from './errors.js';
import type { Metrics } from './metrics/metrics.js';

/** Builds a limiter for `points` per `durationSeconds`; the multi-node setup passes a Redis-backed one. */
export type LimiterFactory = (keyPrefix: string, points: number, durationSeconds: number) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration });

const rateLimited = (res: RateLimiterRes) =>
  new AppError('rate_limited', 'too many requests, slow down', undefined, Math.max(1, Math.ceil(res.msBeforeNext / 1000)));

/**
 * The contract's rate limits: messages per user (across sockets and nodes)
 * and login failures per login and per IP. A limit of 0 turns one off.
 */
export class RateLimits {
  private readonly messages: RateLimiterAbstract | null;
  private readonly failuresByLogin: RateLimiterAbstract | null;
  private readonly failuresByIp: RateLimiterAbstract | null;
  private readonly loginLimit: number;

  constructor(
    config: Config,
    factory: LimiterFactory = memoryLimiters,
    private readonly metrics?: Metrics,
  ) {
    this.messages = config.messageRateLimit > 0 ? factory('msg', config.messageRateLimit, config.messageRateWindow) : null;
    this.loginLimit = config.loginFailureLimit;
    const loginOn = config.loginFailureLimit > 0;
    this.failuresByLogin = loginOn ? factory('login-fail', config.loginFailureLimit, config.loginFailureWindow) : null;
    this.failuresByIp = loginOn ? factory('ip-fail', config.loginFailureLimit, config.loginFailureWindow) : null;
  }

  /** Spends one message of the user's budget; throws `rate_limited` when it is gone. */
  async consumeMessage(userId: string): Promise<void> {
    if (!this.messages) return;
    try {
      await this.messages.consume(userId);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        this.metrics?.refused('message');
        throw rateLimited(rejection);
      }
      throw rejection;
    }
  }

  /** Throws `rate_limited` while the login or the IP has used up its failures. */
  async checkLogin(login: string, ip: string): Promise<void> {
    if (!this.failuresByLogin || !this.failuresByIp) return;
    const [byLogin, byIp] = await Promise.all([this.failuresByLogin.get(login.toLowerCase()), this.failuresByIp.get(ip)]);
    for (const res of [byLogin, byIp]) {
      if (res && res.consumedPoints >= this.loginLimit) {
        this.metrics?.refused('login');
        throw rateLimited(res);
      }
    }
  }

  async recordLoginFailure(login: string, ip: string): Promise<void> {
    if (!this.failuresByLogin || !this.failuresByIp) return;
    await Promise.all([this.failuresByLogin.penalty(login.toLowerCase()), this.failuresByIp.penalty(ip)]);
  }
}
