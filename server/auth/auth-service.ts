import type { TokenStore } from '../../db/stores/token-store.js';
import { DuplicateUserError, publicUser, type UserRecord, type UserStore } from '../../db/stores/user-store.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { ClientMode, LoginRequest, RegisterRequest, RevokeReason, User } from '../protocol.js';
import type { RateLimits } from '../rate-limits.js';
import type { AccessTokens } from './access-tokens.js';
import type { Passwords } from './passwords.js';
import { hashRefreshToken, type RefreshTokens } from './refresh-tokens.js';
import { banInForce, withCurrentBan } from './ban.js';

/** Ends live sockets; the realtime layer implements it for every node. */
export interface SessionEnder {
  endUserSessions(userId: string, reason: RevokeReason): void;
  endLoginSession(sessionId: string, reason: RevokeReason): void;
}

export interface IssuedSession {
  user: User;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  client: ClientMode;
}

export interface RotatedSession {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  client: ClientMode;
}

const INVALID_CREDENTIALS = () => new AppError('invalid_credentials', 'wrong login or password');
const NAME_TAKEN = (field: 'username' | 'email') => new AppError('conflict', `${field} is taken`, { field });

/** Sign-up, sign-in, refresh-token rotation and logout: the stories of auth. */
export class AuthService {
  constructor(
    private readonly deps: {
      config: Config;
      users: UserStore;
      tokens: TokenStore;
      accessTokens: AccessTokens;
      refreshTokens: RefreshTokens;
      limits: RateLimits;
      sessions: SessionEnder;
      passwords: Passwords;
    },
  ) {}

  /**
   * Spends the IP's (and everyone's) registration budget, then checks the
   * names, and only then hashes: a flood is refused before any bcrypt work,
   * and a taken name costs a query, not 80 ms of a password thread. Probing
   * for taken names spends the same budget (the 409 is documented in
   * docs/security.md).
   */
  async register(input: RegisterRequest, ip: string): Promise<IssuedSession> {
    if (this.deps.config.registration === 'closed' || !this.deps.config.builtinAuth) throw new AppError('registration_closed', 'registration is closed');
    await this.deps.limits.consumeRegistration(ip);
    const taken = await this.deps.users.findTaken(input.username, input.email);
    if (taken) throw NAME_TAKEN(taken);
    const passwordHash = await this.deps.passwords.hash(input.password);
    let user: UserRecord;
    try {
      user = await this.deps.users.create({ username: input.username, email: input.email, passwordHash });
    } catch (err) {
      // Two sign-ups of one name racing past the check: the unique index decides.
      if (err instanceof DuplicateUserError) throw NAME_TAKEN(err.field);
      throw err;
    }
    return this.startSession(user, input.client ?? 'browser');
  }

  /**
   * Unknown login and wrong password answer alike, after the same bcrypt work.
   * A banned user learns it only with the right password.
   *
   * The attempt is reserved in the limits before bcrypt runs and given back
   * only for a right password, so parallel guesses cannot all be checked.
   * The per-login counter keys on the account, so every alias of a user
   * (username, email, any letter case) shares one budget.
   */
  async login(input: LoginRequest, ip: string): Promise<IssuedSession> {
    this.requireBuiltinAuth();
    const user = await this.deps.users.findByLogin(input.login);
    const account = user ? `user:${user.id}` : `login:${input.login.toLowerCase()}`;
    const reservation = await this.deps.limits.reserveLoginAttempt(account, ip);
    // A password the pool refused to check (unavailable) was no guess: its attempt goes back too.
    const valid = await this.deps.passwords.verify(input.password, user?.passwordHash ?? null).catch(async (err: unknown) => {
      await reservation.refund();
      throw err;
    });
    if (!user || !valid) throw INVALID_CREDENTIALS();
    await reservation.refund();
    if (banInForce(user)) throw new AppError('banned', 'this account is banned');
    return this.startSession(user, input.client ?? 'browser');
  }

  /**
   * Rotates a refresh token: the old one is spent, a new one of the same
   * family is issued. A spent token presented again revokes the whole family.
   */
  async refresh(refreshToken: string, ip: string): Promise<RotatedSession> {
    this.requireBuiltinAuth();
    await this.deps.limits.consumeRefresh(ip);
    // Spend and replace in one transaction: a parallel refresh that loses then
    // revokes the family with the replacement in it, not before it exists.
    const result = await this.deps.refreshTokens.rotate(refreshToken);
    if (result.status === 'reused') {
      await this.deps.tokens.revokeFamily(result.token.familyId);
      this.deps.sessions.endLoginSession(result.token.familyId, 'logout');
      throw new AppError('refresh_reused', 'refresh token was already used; the session is revoked');
    }
    if (result.status === 'invalid') throw new AppError('unauthorized', 'invalid or expired refresh token');
    const { token } = result;
    const user = await this.deps.users.findById(token.userId);
    if (!user) throw new AppError('unauthorized', 'invalid or expired refresh token');
    if (banInForce(user)) {
      await this.deps.tokens.revokeAllForUser(user.id);
      throw new AppError('banned', 'this account is banned');
    }
    const { next } = result;
    return {
      accessToken: await this.deps.accessTokens.sign(user, token.familyId),
      expiresIn: this.deps.accessTokens.ttlSeconds,
      refreshToken: next.token,
      client: token.client,
    };
  }

  /** Revokes the token's login family and ends its sockets; unknown tokens are ignored. */
  async logout(refreshToken: string): Promise<void> {
    const token = await this.deps.tokens.findByHash(hashRefreshToken(refreshToken));
    if (!token) return;
    await this.deps.tokens.revokeFamily(token.familyId);
    this.deps.sessions.endLoginSession(token.familyId, 'logout');
  }

  /** BUILTIN_AUTH=off: users sign in with the app's identity provider only. */
  private requireBuiltinAuth(): void {
    if (!this.deps.config.builtinAuth) throw new AppError('forbidden', 'built-in accounts are off; sign in through the app');
  }

  private async startSession(user: UserRecord, client: ClientMode): Promise<IssuedSession> {
    const refresh = await this.deps.refreshTokens.issue(user.id, client);
    return {
      user: publicUser(withCurrentBan(user), true),
      accessToken: await this.deps.accessTokens.sign(user, refresh.familyId),
      expiresIn: this.deps.accessTokens.ttlSeconds,
      refreshToken: refresh.token,
      client,
    };
  }
}
