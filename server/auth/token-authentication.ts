import type { TokenStore } from '../../db/stores/token-store.js';
import type { UserStore } from '../../db/stores/user-store.js';
import { AppError } from '../errors.js';
import type { Role } from '../protocol.js';
import type { AccessTokens } from './access-tokens.js';
import { banInForce } from './ban.js';

/** Who an access token authenticates, as every entry point sees it. */
export interface Principal {
  userId: string;
  username: string;
  /** From the database, not the token: a role change applies at once. */
  role: Role;
  /** The login (refresh-token family) the token was issued under. */
  sessionId: string | null;
  /** Epoch milliseconds. */
  tokenExpiresAt: number;
}

/** What an entry point requires beyond a live login. */
export type Access = 'user' | 'admin';

export interface TokenAuthenticationDeps {
  accessTokens: AccessTokens;
  users: Pick<UserStore, 'findById'>;
  tokens: Pick<TokenStore, 'isFamilyActive'>;
}

/**
 * The one token-to-principal check behind REST, both namespace handshakes,
 * `/api/me` and `auth:refresh`, so they cannot disagree about a token. Each
 * check reads the database, so a ban, a role change or a logout holds on
 * every node at once, without a shared cache to invalidate.
 */
export class TokenAuthentication {
  constructor(private readonly deps: TokenAuthenticationDeps) {}

  /**
   * Throws AppError `unauthorized` (no token, invalid token, unknown user,
   * logged-out login), `token_expired`, `banned`, or `forbidden` (a member
   * where `access` is `admin`).
   */
  async authenticate(token: string | null, access: Access = 'user'): Promise<Principal> {
    if (!token) throw new AppError('unauthorized', 'missing access token');
    const claims = await this.deps.accessTokens.verify(token);
    const user = await this.deps.users.findById(claims.userId);
    if (!user) throw new AppError('unauthorized', 'invalid access token');
    // Ban and role change revoke the user's logins too; the facts about the
    // user come first so the answer says why (a new login would not help).
    if (banInForce(user)) throw new AppError('banned', 'this account is banned');
    if (access === 'admin' && user.role !== 'admin') throw new AppError('forbidden', 'admins only');
    // Every token issued carries its login; one without cannot be logged out.
    if (claims.sessionId && !(await this.deps.tokens.isFamilyActive(claims.sessionId))) {
      throw new AppError('unauthorized', 'this login has ended; sign in again');
    }
    return { userId: user.id, username: user.username, role: user.role, sessionId: claims.sessionId, tokenExpiresAt: claims.expiresAt };
  }
}
