import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
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

export class AccessTokens {
  /**
   * A KeyObject, not the string: given a string, jsonwebtoken first tries it
   * as a PEM public key and catches the failure, which costs ~0.6-1 ms per
   * verification (every handshake and every authenticated request).
   */
  private readonly secret: KeyObject;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.secret = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** Signs an HS256 access token for the user. */
  sign(user: { id: string; username: string; role: Role }, sessionId: string | null): string {
    return jwt.sign({ name: user.username, role: user.role, sid: sessionId }, this.secret, {
      algorithm: 'HS256',
      expiresIn: this.ttlSeconds,
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: user.id,
    });
  }

  /**
   * Verifies signature (HS256 only), expiry, not-before, issuer and audience.
   * Throws `token_expired` or `unauthorized`.
   */
  verify(token: string): AccessClaims {
    let payload: jwt.JwtPayload;
    try {
      const decoded = jwt.verify(token, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
      if (typeof decoded === 'string') throw new Error('unexpected string payload');
      payload = decoded;
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw new AppError('token_expired', 'access token expired');
      throw new AppError('unauthorized', 'invalid access token');
    }
    const { sub, name, role, sid, exp } = payload;
    if (typeof sub !== 'string' || typeof name !== 'string' || (role !== 'admin' && role !== 'member') || typeof exp !== 'number') {
      throw new AppError('unauthorized', 'invalid access token');
    }
    return { userId: sub, username: name, role, sessionId: typeof sid === 'string' ? sid : null, expiresAt: exp * 1000 };
  }
}
