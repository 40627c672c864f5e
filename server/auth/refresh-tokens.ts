import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { RefreshTokenRecord, TokenStore } from '../../db/stores/token-store.js';
import type { ClientMode } from '../protocol.js';

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

export type RotatedToken =
  | { status: 'ok'; token: RefreshTokenRecord; next: { token: string } }
  | { status: 'reused'; token: RefreshTokenRecord }
  | { status: 'invalid' };

/** Opaque refresh tokens: 256 random bits, stored only as a SHA-256 hash. */
export class RefreshTokens {
  constructor(
    private readonly store: TokenStore,
    readonly ttlSeconds: number,
  ) {}

  /** Issues a token, in a new login family unless one is given (rotation). */
  async issue(userId: string, client: ClientMode, familyId: string = randomUUID()): Promise<{ token: string; familyId: string; id: string }> {
    const token = randomBytes(32).toString('base64url');
    const record = await this.store.insert({
      userId,
      familyId,
      tokenHash: hashRefreshToken(token),
      client,
      expiresAt: new Date(Date.now() + this.ttlSeconds * 1000),
    });
    return { token, familyId, id: record.id };
  }

  /** Spends `presented` and issues its replacement in the same family, atomically (see TokenStore.rotate). */
  async rotate(presented: string): Promise<RotatedToken> {
    const token = randomBytes(32).toString('base64url');
    const result = await this.store.rotate(hashRefreshToken(presented), {
      tokenHash: hashRefreshToken(token),
      expiresAt: new Date(Date.now() + this.ttlSeconds * 1000),
    });
    return result.status === 'ok' ? { status: 'ok', token: result.token, next: { token } } : result;
  }
}
