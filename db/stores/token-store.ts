import type { Knex } from 'knex';
import type { ClientMode } from '../../server/protocol.js';

export interface RefreshTokenRecord {
  id: string;
  userId: string;
  familyId: string;
  client: ClientMode;
  expiresAt: Date;
}

interface TokenRow {
  id: string;
  token_hash: string;
  user_id: string;
  family_id: string;
  client: ClientMode;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

/**
 * What presenting a refresh token found: on `ok` it is spent and `next` is
 * its replacement's record; `reused` means it was already spent (and not
 * revoked); anything else is `invalid`.
 */
export type RotateResult =
  | { status: 'ok'; token: RefreshTokenRecord; next: RefreshTokenRecord }
  | { status: 'reused'; token: RefreshTokenRecord }
  | { status: 'invalid' };

const toRecord = (row: TokenRow): RefreshTokenRecord => ({
  id: row.id,
  userId: row.user_id,
  familyId: row.family_id,
  client: row.client,
  expiresAt: row.expires_at,
});

/** Refresh tokens, stored only as hashes. */
export class TokenStore {
  constructor(private readonly knex: Knex) {}

  async insert(input: { userId: string; familyId: string; tokenHash: string; client: ClientMode; expiresAt: Date }): Promise<RefreshTokenRecord> {
    const [row] = await this.knex('refresh_tokens')
      .insert({
        user_id: input.userId,
        family_id: input.familyId,
        token_hash: input.tokenHash,
        client: input.client,
        expires_at: input.expiresAt,
      })
      .returning('*');
    return toRecord(row as TokenRow);
  }

  /**
   * Spends a token and stores its replacement in ONE transaction. The loser
   * of a parallel refresh waits on the spent row's lock and then sees it
   * used; since the replacement committed with that mark, the loser's
   * family revocation (refresh_reused) always catches the replacement too.
   */
  async rotate(tokenHash: string, next: { tokenHash: string; expiresAt: Date }): Promise<RotateResult> {
    return this.knex.transaction(async (trx) => {
      const [used] = await trx<TokenRow>('refresh_tokens')
        .where({ token_hash: tokenHash })
        .whereNull('used_at')
        .whereNull('revoked_at')
        .where('expires_at', '>', trx.fn.now())
        .update({ used_at: trx.fn.now() })
        .returning('*');
      if (!used) {
        const found = await trx<TokenRow>('refresh_tokens').where({ token_hash: tokenHash }).first();
        if (found && found.used_at && !found.revoked_at) return { status: 'reused' as const, token: toRecord(found) };
        return { status: 'invalid' as const };
      }
      const [child] = await trx('refresh_tokens')
        .insert({ user_id: used.user_id, family_id: used.family_id, token_hash: next.tokenHash, client: used.client, expires_at: next.expiresAt })
        .returning('*');
      await trx('refresh_tokens').where({ id: used.id }).update({ replaced_by: (child as TokenRow).id });
      return { status: 'ok' as const, token: toRecord(used as TokenRow), next: toRecord(child as TokenRow) };
    });
  }

  async findByHash(tokenHash: string): Promise<RefreshTokenRecord | null> {
    const row = await this.knex<TokenRow>('refresh_tokens').where({ token_hash: tokenHash }).first();
    return row ? toRecord(row) : null;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.knex('refresh_tokens').where({ family_id: familyId }).whereNull('revoked_at').update({ revoked_at: this.knex.fn.now() });
  }

  async revokeAllForUser(userId: string): Promise<void> {
    await this.knex('refresh_tokens').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: this.knex.fn.now() });
  }
}
