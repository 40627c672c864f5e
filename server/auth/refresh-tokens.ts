import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { TokenStore } from '../../db/stores/token-store.js';
import type { ClientMode } from '../protocol.js';

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

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
}
