import { createLocalJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import jwt from 'jsonwebtoken';
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
 *
 * HS256 tokens are verified with jsonwebtoken (node:crypto's HMAC, in the
 * calling turn: ~10 µs); jose verifies through WebCrypto, which on Node 20
 * costs 110-190 µs of CPU per token (an algorithm normalisation, a key import
 * and an async job each time) and was the largest single cost of a socket
 * handshake (issue 18). Key pairs keep jose for its JWK sets and EdDSA.
 */
export class AccessTokens {
  /** Under a key pair: the published keys by `kid`, and their algorithms. */
  private readonly keyPair: { key: JWTVerifyGetKey; algorithms: string[] } | null;

  constructor(
    private readonly keys: AccessTokenKeys,
    readonly ttlSeconds: number,
  ) {
    if (keys.algorithm === 'HS256') {
      this.keyPair = null;
    } else {
      const published = createLocalJWKSet({ keys: keys.publicKeys.map((jwk) => ({ ...jwk })) });
      this.keyPair = {
        key: (header, token) => {
          if (typeof header.kid !== 'string') throw new errors.JWKSNoMatchingKey('access token without a key id');
          return published(header, token);
        },
        algorithms: [...new Set(keys.publicKeys.map((jwk) => jwk.alg))],
      };
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
    const { sub, name, role, sid, exp } = this.keyPair ? await this.verifyWithKeyPair(token, this.keyPair) : this.verifyHmac(token);
    if (typeof sub !== 'string' || typeof name !== 'string' || (role !== 'admin' && role !== 'member') || typeof exp !== 'number') {
      throw new AppError('unauthorized', 'invalid access token');
    }
    return { userId: sub, username: name, role, sessionId: typeof sid === 'string' ? sid : null, expiresAt: exp * 1000 };
  }

  private verifyHmac(token: string): JWTPayload {
    try {
      const payload = jwt.verify(token, this.keys.signingKey, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
      if (typeof payload === 'string') throw new AppError('unauthorized', 'invalid access token');
      return payload;
    } catch (err) {
      // jsonwebtoken checks the claims only after the signature: an expired forgery is `unauthorized`.
      if (err instanceof jwt.TokenExpiredError) throw new AppError('token_expired', 'access token expired');
      throw new AppError('unauthorized', 'invalid access token');
    }
  }

  private async verifyWithKeyPair(token: string, keyPair: { key: JWTVerifyGetKey; algorithms: string[] }): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, keyPair.key, {
        algorithms: keyPair.algorithms,
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp', 'sub'],
      });
      return payload;
    } catch (err) {
      // jose checks the claims only after the signature: an expired forgery is `unauthorized`.
      if (err instanceof errors.JWTExpired) throw new AppError('token_expired', 'access token expired');
      throw new AppError('unauthorized', 'invalid access token');
    }
  }
}
