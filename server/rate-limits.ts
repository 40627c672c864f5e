import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from './config.js';
import { AppError } from './errors.js';
import type { LimitKind, Metrics } from './metrics/metrics.js';

/** Builds a limiter for `points` per `durationSeconds`; the multi-node setup passes a Redis-backed one. */
export type LimiterFactory = (keyPrefix: string, points: number, durationSeconds: number) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration });

const rateLimited = (res: RateLimiterRes) =>
  new AppError('rate_limited', 'too many requests, slow down', undefined, Math.max(1, Math.ceil(res.msBeforeNext / 1000)));

/** One counter and the key it counts under. */
interface Spend {
  limiter: RateLimiterAbstract;
  key: string;
}

/** A login attempt's reserved place in its limits: refunded when the password was right. */
export interface LoginReservation {
  refund(): Promise<void>;
}

const NOTHING_RESERVED: LoginReservation = { refund: async () => {} };

/**
 * The rate limits: messages per user (across sockets and nodes), login
 * failures per account and per IP, registrations per IP and in all,
 * refreshes per IP, edits and joins per user, and changes per admin. A
 * limit of 0 turns one off. With Redis every counter is shared by the
 * cluster (see redisLimiters).
 *
 * Every limit is spent BEFORE the work it guards (consume first, refund
 * after): reading the counter first and counting after let 60 parallel
 * guesses all pass the read before the first was counted.
 */
export class RateLimits {
  private readonly messages: RateLimiterAbstract | null;
  private readonly failuresByLogin: RateLimiterAbstract | null;
  private readonly failuresByIp: RateLimiterAbstract | null;
  private readonly registrationsByIp: RateLimiterAbstract | null;
  private readonly registrationsAll: RateLimiterAbstract | null;
  private readonly refreshesByIp: RateLimiterAbstract | null;
  // --- Writes and moderation (issue 16/20): edits, joins, admin actions. ---
  private readonly edits: RateLimiterAbstract | null;
  private readonly joins: RateLimiterAbstract | null;
  private readonly adminActions: RateLimiterAbstract | null;
  // --- end of writes and moderation ---
  // --- rooms and history (issue 20, "bounded everything") ---
  private readonly roomCreates: RateLimiterAbstract | null;
  private readonly historyReads: RateLimiterAbstract | null;
  // --- end rooms and history ---
  private readonly apiKeyCalls: RateLimiterAbstract | null;
  // --- read state ---
  private readonly readMarks: RateLimiterAbstract | null;
  // --- reactions ---
  private readonly reactions: RateLimiterAbstract | null;
  // --- members (issue 14) ---
  private readonly membershipChanges: RateLimiterAbstract | null;

  constructor(
    config: Config,
    factory: LimiterFactory = memoryLimiters,
    private readonly metrics?: Metrics,
  ) {
    const limiter = (prefix: string, points: number, window: number) => (points > 0 ? factory(prefix, points, window) : null);
    this.messages = limiter('msg', config.messageRateLimit, config.messageRateWindow);
    this.failuresByLogin = limiter('login-fail', config.loginFailureLimit, config.loginFailureWindow);
    this.failuresByIp = limiter('ip-fail', config.loginFailureLimit, config.loginFailureWindow);
    this.registrationsByIp = limiter('reg-ip', config.registrationRateLimit, config.registrationRateWindow);
    this.registrationsAll = limiter('reg-all', config.registrationGlobalRateLimit, config.registrationRateWindow);
    this.refreshesByIp = limiter('refresh-ip', config.refreshRateLimit, config.refreshRateWindow);
    // --- Writes and moderation ---
    this.edits = limiter('edit', config.editRateLimit, config.editRateWindow);
    this.joins = limiter('join', config.joinRateLimit, config.joinRateWindow);
    this.adminActions = limiter('admin-action', config.adminActionRateLimit, config.adminActionRateWindow);
    // --- end of writes and moderation ---
    // --- rooms and history (issue 20, "bounded everything") ---
    this.roomCreates = limiter('room-create', config.roomCreateRateLimit, config.roomCreateRateWindow);
    this.historyReads = limiter('history', config.historyRateLimit, config.historyRateWindow);
    // --- end rooms and history ---
    this.apiKeyCalls = limiter('api-key', config.apiKeyRateLimit, config.apiKeyRateWindow);
    this.readMarks = limiter('read', config.readRateLimit, config.readRateWindow);
    this.reactions = limiter('reaction', config.reactionRateLimit, config.reactionRateWindow);
    this.membershipChanges = limiter('membership', config.membershipRateLimit, config.membershipRateWindow);
  }

  /** Spends one message of the user's budget; throws `rate_limited` when it is gone. */
  consumeMessage(userId: string): Promise<void> | void {
    // Per send (issue 18): nothing to allocate when the limit is off, and no
    // allSettled over a one-element list when it is on.
    if (!this.messages) return;
    return this.spendOne('message', this.messages, userId);
  }

  /**
   * Reserves one login attempt of the account (or, for an unknown login, of
   * the typed login) and of the IP before the password is checked; throws
   * `rate_limited` when either has no attempt left. `account` is the caller's
   * key: one per user, whichever alias (username, email, letter case) was typed.
   */
  async reserveLoginAttempt(account: string, ip: string): Promise<LoginReservation> {
    const spends = await this.spend('login', [this.failuresByLogin && { limiter: this.failuresByLogin, key: account }, this.failuresByIp && { limiter: this.failuresByIp, key: ip }]);
    if (!spends.length) return NOTHING_RESERVED;
    // Only failures count: a right password gives its attempt back.
    return { refund: () => this.giveBack(spends) };
  }

  /**
   * Spends one registration of the IP, then one of everyone's: an IP that is
   * over its own limit never reaches (so never uses up) the global one.
   */
  async consumeRegistration(ip: string): Promise<void> {
    const byIp = await this.spend('registration', [this.registrationsByIp && { limiter: this.registrationsByIp, key: ip }]);
    try {
      await this.spend('registration', [this.registrationsAll && { limiter: this.registrationsAll, key: 'all' }]);
    } catch (err) {
      await this.giveBack(byIp);
      throw err;
    }
  }

  async consumeRefresh(ip: string): Promise<void> {
    await this.spend('refresh', [this.refreshesByIp && { limiter: this.refreshesByIp, key: ip }]);
  }

  // --- Writes and moderation: spent by the domain (MessageService, RoomService,
  // AdminService), so every path (socket, REST) pays the same. ---

  /** Spends one of the user's message edits. */
  async consumeEdit(userId: string): Promise<void> {
    await this.spend('edit', [this.edits && { limiter: this.edits, key: userId }]);
  }

  /** Spends one of the user's room joins. */
  async consumeJoin(userId: string): Promise<void> {
    await this.spend('join', [this.joins && { limiter: this.joins, key: userId }]);
  }

  /** Spends one of the admin's moderating actions (every AdminService change, REST or /admin). */
  async consumeAdminAction(adminId: string): Promise<void> {
    await this.spend('admin', [this.adminActions && { limiter: this.adminActions, key: adminId }]);
  }

  // --- end of writes and moderation ---
  // --- rooms and history (issue 20, "bounded everything") ---

  /**
   * Spends one membership change (invite, removal, leave, opening a direct
   * room) of the acting user's budget, REST and every node together.
   */
  async consumeMembership(userId: string): Promise<void> {
    await this.spend('membership', [this.membershipChanges && { limiter: this.membershipChanges, key: userId }]);
  }

  /** Spends one room creation of the user's budget; throws `rate_limited` when it is gone. */
  async consumeRoomCreate(userId: string): Promise<void> {
    await this.spend('room_create', [this.roomCreates && { limiter: this.roomCreates, key: userId }]);
  }

  /** Spends one history read (REST or socket: one budget) of the user's; throws `rate_limited` when it is gone. */
  async consumeHistory(userId: string): Promise<void> {
    await this.spend('history', [this.historyReads && { limiter: this.historyReads, key: userId }]);
  }

  // --- end rooms and history ---

  /** Spends one server API call of the key's budget (every /api/server/ route); throws `rate_limited` when it is gone. */
  async consumeApiKeyCall(keyId: string): Promise<void> {
    await this.spend('api_key', [this.apiKeyCalls && { limiter: this.apiKeyCalls, key: keyId }]);
  }

  /** Spends one read-state write (room:read or PUT /api/rooms/:id/read: one budget) of the user's. */
  async consumeRead(userId: string): Promise<void> {
    await this.spend('read', [this.readMarks && { limiter: this.readMarks, key: userId }]);
  }

  /** Spends one reaction change (message:react and message:unreact: one budget) of the user's. */
  async consumeReaction(userId: string): Promise<void> {
    await this.spend('reaction', [this.reactions && { limiter: this.reactions, key: userId }]);
  }

  /**
   * Spends one point on every counter at once. If any refuses, the others
   * get theirs back (a refused request costs nothing) and `rate_limited`
   * is thrown with the longest wait. Resolves with what was spent.
   */
  private async spend(kind: LimitKind, wanted: Array<Spend | null>): Promise<Spend[]> {
    const spends = wanted.filter((s): s is Spend => s !== null);
    // One counter (every budget but the login's): nothing to give back, no allSettled (issue 18).
    if (spends.length === 1) {
      await this.spendOne(kind, spends[0]!.limiter, spends[0]!.key);
      return spends;
    }
    const results = await Promise.allSettled(spends.map((s) => s.limiter.consume(s.key)));
    const refusals = results.flatMap((r) => (r.status === 'rejected' && r.reason instanceof RateLimiterRes ? [r.reason] : []));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof RateLimiterRes));
    if (!refusals.length && !failure) return spends;
    await this.giveBack(spends.filter((_, i) => results[i]!.status === 'fulfilled'));
    if (failure) throw failure.reason;
    this.metrics?.refused(kind);
    throw rateLimited(refusals.reduce((a, b) => (b.msBeforeNext > a.msBeforeNext ? b : a)));
  }

  /** `spend` for one counter: nothing to give back when it refuses; `rate_limited` carries its wait. */
  private async spendOne(kind: LimitKind, limiter: RateLimiterAbstract, key: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      this.metrics?.refused(kind);
      throw rateLimited(err);
    }
  }

  private async giveBack(spends: Spend[]): Promise<void> {
    await Promise.all(spends.map((s) => s.limiter.reward(s.key)));
  }
}
