import { createHash } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from '../errors.js';
import { EXTERNAL_PUBLIC_KEY_ALGORITHMS, type ExternalIdentityConfig } from '../external-identity-config.js';
import type { Role } from '../protocol.js';
import { remoteKeySet } from './remote-key-set.js';

/** What a verified token of the app's identity provider says. */
export interface ExternalClaims {
  issuer: string;
  subject: string;
  /** A valid Roomcast username made from the username claim (or from `sub` without one). */
  username: string;
  /** The `email` claim when `email_verified` is true; null otherwise. */
  email: string | null;
  /** From the role claim when one is configured; null: Roomcast keeps the user's role. */
  role: Role | null;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const USERNAME = /^[a-zA-Z0-9_.-]{3,32}$/;

/**
 * Verifies tokens the app's identity provider issued (JWKS, a PEM public key
 * or an HS256 secret), with the algorithms pinned to the key type, the
 * configured issuer and audience, and `sub` and `exp` required.
 */
export class ExternalTokens {
  private readonly key: JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(
    private readonly config: ExternalIdentityConfig,
    onJwksError: (err: unknown) => void = () => {},
  ) {
    const source = config.keys;
    if (source.kind === 'jwks') {
      this.key = remoteKeySet(source.url, { timeoutMs: source.timeoutMs, cooldownMs: source.cooldownMs, cacheMaxAgeMs: source.cacheMaxAgeMs, onFetchError: onJwksError });
      this.algorithms = [...EXTERNAL_PUBLIC_KEY_ALGORITHMS];
    } else {
      this.key = () => source.key;
      this.algorithms = [source.kind === 'secret' ? 'HS256' : source.algorithm];
    }
  }

  get issuer(): string {
    return this.config.issuer;
  }

  /** Throws `token_expired` or `unauthorized`. */
  async verify(token: string): Promise<ExternalClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: this.algorithms,
        issuer: this.config.issuer,
        ...(this.config.audience ? { audience: this.config.audience } : {}),
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AppError('token_expired', 'access token expired');
      throw new AppError('unauthorized', 'invalid access token');
    }
    const subject = payload.sub!;
    return {
      issuer: this.config.issuer,
      subject,
      username: usernameFrom(claim(payload, this.config.usernameClaim), subject),
      email: payload.email_verified === true && typeof payload.email === 'string' && payload.email.length <= 254 ? payload.email : null,
      role: this.config.roleClaim ? roleFrom(claim(payload, this.config.roleClaim)) : null,
      expiresAt: payload.exp! * 1000,
    };
  }
}

/** A claim by dotted path (`realm_access.roles`). */
function claim(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (!value || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** `admin`, or a list holding it, makes an admin; anything else a member. */
function roleFrom(value: unknown): Role {
  return value === 'admin' || (Array.isArray(value) && value.includes('admin')) ? 'admin' : 'member';
}

/**
 * The claim made into a username (`[a-zA-Z0-9_.-]`, 3-32): other characters
 * become `_`; too short or absent, a name from the subject's hash.
 */
function usernameFrom(value: unknown, subject: string): string {
  const cleaned = typeof value === 'string' ? value.normalize('NFKD').replace(/\p{M}/gu, '').replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, 32) : '';
  if (USERNAME.test(cleaned) && /[a-zA-Z0-9]/.test(cleaned)) return cleaned;
  return `user-${createHash('sha256').update(subject).digest('hex').slice(0, 12)}`;
}
