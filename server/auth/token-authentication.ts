import { decodeJwt } from 'jose';
import type { UserRecord, UserStore } from '../../db/stores/user-store.js';
import { AppError } from '../errors.js';
import type { Role } from '../protocol.js';
import type { AccessTokens } from './access-tokens.js';
import { banInForce } from './ban.js';
import type { ExternalTokens } from './external-tokens.js';
import type { ExternalUsers } from './external-users.js';

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
  users: Pick<UserStore, 'findWithLogin'>;
  /** The app's identity provider, when configured: its tokens are told apart by their `iss`. */
  external?: { tokens: ExternalTokens; users: ExternalUsers } | null;
}

/** Who a verified token names, before the checks every token gets. */
interface Identified {
  user: UserRecord | null;
  sessionId: string | null;
  /** Whether the login `sessionId` names is live (read with the user); true without one. */
  loginLive: boolean;
  expiresAt: number;
}

/**
 * The one token-to-principal check behind REST, both namespace handshakes,
 * `/api/me` and `auth:refresh`, so they cannot disagree about a token. Each
 * check reads the database, so a ban, a role change or a logout holds on
 * every node at once, without a shared cache to invalidate: the user and the
 * login are one statement (UserStore.findWithLogin), one round trip.
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
    const { user, sessionId, loginLive, expiresAt } = await this.identify(token);
    if (!user) throw new AppError('unauthorized', 'invalid access token');
    // Ban and role change revoke the user's logins too; the facts about the
    // user come first so the answer says why (a new login would not help).
    if (banInForce(user)) throw new AppError('banned', 'this account is banned');
    if (access === 'admin' && user.role !== 'admin') throw new AppError('forbidden', 'admins only');
    // Every token issued carries its login; one without cannot be logged out.
    if (sessionId && !loginLive) {
      throw new AppError('unauthorized', 'this login has ended; sign in again');
    }
    return { userId: user.id, username: user.username, role: user.role, sessionId, tokenExpiresAt: expiresAt };
  }

  /**
   * Roomcast's own token, or one of the app's identity provider (its user
   * found or created by issuer and subject). The unverified `iss` only picks
   * the verifier; each verifier checks the issuer, keys and algorithms itself.
   */
  private async identify(token: string): Promise<Identified> {
    const external = this.deps.external;
    if (external && issuerOf(token) === external.tokens.issuer) {
      const claims = await external.tokens.verify(token);
      return { user: await external.users.resolve(claims), sessionId: null, loginLive: true, expiresAt: claims.expiresAt };
    }
    const claims = await this.deps.accessTokens.verify(token);
    const found = await this.deps.users.findWithLogin(claims.userId, claims.sessionId);
    return { user: found?.user ?? null, sessionId: claims.sessionId, loginLive: found?.loginLive ?? false, expiresAt: claims.expiresAt };
  }
}

function issuerOf(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}
