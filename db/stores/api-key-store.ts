import type { Knex } from 'knex';
import type { ApiKeyInfo, ApiKeyScope } from '../../server/protocol.js';
import { iso } from './row-mappers.js';

interface ApiKeyRow {
  id: string;
  name: string;
  key_hash: string;
  scopes: ApiKeyScope[];
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toInfo = (row: ApiKeyRow): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  scopes: row.scopes,
  createdAt: iso(row.created_at),
  lastUsedAt: row.last_used_at ? iso(row.last_used_at) : null,
});

/** Server API keys: stored by the SHA-256 of the key, never the key itself. */
export class ApiKeyStore {
  constructor(private readonly knex: Knex) {}

  async create(input: { name: string; keyHash: string; scopes: readonly ApiKeyScope[]; createdBy: string | null }): Promise<ApiKeyInfo> {
    const [row] = await this.knex('api_keys')
      .insert({ name: input.name, key_hash: input.keyHash, scopes: [...input.scopes], created_by: input.createdBy })
      .returning('*');
    return toInfo(row as ApiKeyRow);
  }

  /** The keys not revoked, oldest first. */
  async listActive(): Promise<ApiKeyInfo[]> {
    const rows = (await this.knex<ApiKeyRow>('api_keys').whereNull('revoked_at').orderBy([{ column: 'created_at' }, { column: 'id' }])) as ApiKeyRow[];
    return rows.map(toInfo);
  }

  /** The live (not revoked) key with this hash; one index probe, made on every server API request. */
  async findActiveByHash(keyHash: string): Promise<ApiKeyInfo | null> {
    const row = (await this.knex<ApiKeyRow>('api_keys').where({ key_hash: keyHash }).whereNull('revoked_at').first()) as ApiKeyRow | undefined;
    return row ? toInfo(row) : null;
  }

  /** Revokes a live key; false when there is none with that id (absent or revoked already). */
  async revoke(id: string): Promise<ApiKeyInfo | null> {
    const [row] = await this.knex('api_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: this.knex.fn.now() }).returning('*');
    return row ? toInfo(row as ApiKeyRow) : null;
  }

  /** Records a use, unless one was recorded in the last `seconds` (so it is not a write per call). */
  async touch(id: string, seconds: number): Promise<void> {
    await this.knex('api_keys')
      .where({ id })
      .andWhere((q) => q.whereNull('last_used_at').orWhereRaw('last_used_at < now() - make_interval(secs => ?)', [seconds]))
      .update({ last_used_at: this.knex.fn.now() });
  }
}
