import { createLocalJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AccessTokenKeys, PublicJwk } from '../access-token-keys.js';
import { AppError } from '../errors.js';
import type { Role } from '../protocol.js';

const ISSUER = 'roomcast';
const AUDIENCE = 'roomcast';

/** What an access token says about its holder. */
export interface AccessClaims {
  userId: string;
  username: string;
  role: Role;
  /** The refresh-token family (login session) it was issued under. */
  sessionId: string | null;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * Roomcast's own access tokens: signed with HS256 and JWT_SECRET, or with an
 * RS256/EdDSA private key whose public keys (with those of earlier keys during
 * a rotation) are published, so other services verify tokens themselves.
 *
 * Verification pins the algorithms: HS256 only with the secret, and under a
 * key pair only the published keys' own algorithms, each key picked by the
 * token's `kid` (a token without one is refused). `none` is never accepted,
 * and a public key is never used as an HMAC secret.
 */
export class AccessTokens {
  private readonly verificationKey: JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(
    private readonly keys: AccessTokenKeys,
    readonly ttlSeconds: number,
  ) {
    if (keys.algorithm === 'HS256') {
      this.verificationKey = () => keys.signingKey;
      this.algorithms = ['HS256'];
    } else {
      const published = createLocalJWKSet({ keys: keys.publicKeys.map((jwk) => ({ ...jwk })) });
      this.verificationKey = (header, token) => {
        if (typeof header.kid !== 'string') throw new errors.JWKSNoMatchingKey('access token without a key id');
        return published(header, token);
      };
      this.algorithms = [...new Set(keys.publicKeys.map((jwk) => jwk.alg))];
    }
  }

  /** The public keys for GET /.well-known/jwks.json (none under HS256). */
  get publicKeys(): readonly PublicJwk[] {
    return this.keys.publicKeys;
  }

  /** Signs an access token for the user, with the configured algorithm and key id. */
  async sign(user: { id: string; username: string; role: Role }, sessionId: string | null): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ name: user.username, role: user.role, sid: sessionId })
      .setProtectedHeader({ alg: this.keys.algorithm, typ: 'JWT', ...(this.keys.keyId ? { kid: this.keys.keyId } : {}) })
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(user.id)
      .sign(this.keys.signingKey);
  }

  /**
   * Verifies signature (pinned algorithms, key by `kid`), expiry, not-before,
   * issuer and audience. Throws `token_expired` or `unauthorized`.
   */
  async verify(token: string): Promise<AccessClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.verificationKey, {
        algorithms: this.algorithms,
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      // jose checks the claims only after the signature: an expired forgery is `unauthorized`.
      if (err instanceof errors.JWTExpired) throw new AppError('token_expired', 'access token expired');
      throw new AppError('unauthorized', 'invalid access token');
    }
    const { sub, name, role, sid, exp } = payload;
    if (typeof sub !== 'string' || typeof name !== 'string' || (role !== 'admin' && role !== 'member') || typeof exp !== 'number') {
      throw new AppError('unauthorized', 'invalid access token');
    }
    return { userId: sub, username: name, role, sessionId: typeof sid === 'string' ? sid : null, expiresAt: exp * 1000 };
  }
}
