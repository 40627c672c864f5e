import type { Knex } from 'knex';
import type { AuditAction, AuditEntry } from '../../server/protocol.js';
import { iso } from './row-mappers.js';

interface AuditRow {
  id: string;
  actor_id: string | null;
  action: AuditAction;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
  created_at: Date;
}

export interface AuditInput {
  actorId: string | null;
  action: AuditAction;
  targetType: 'user' | 'room' | 'message' | 'broadcast' | 'api_key' | 'webhook';
  targetId: string;
  details?: Record<string, unknown>;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  id: row.id,
  actorId: row.actor_id,
  action: row.action,
  targetType: row.target_type,
  targetId: row.target_id,
  details: row.details,
  createdAt: iso(row.created_at),
});

/** The admin audit trail: who did what to which target, when. */
export class AuditStore {
  constructor(private readonly knex: Knex) {}

  async record(input: AuditInput): Promise<void> {
    await this.knex('audit_log').insert({
      actor_id: input.actorId,
      action: input.action,
      target_type: input.targetType,
      target_id: input.targetId,
      details: JSON.stringify(input.details ?? {}),
    });
  }

  /** Newest first; `cursor` is the id of the last entry of the previous page. */
  async list(input: { limit: number; cursor?: string }): Promise<{ entries: AuditEntry[]; nextCursor: string | null }> {
    const query = this.knex<AuditRow>('audit_log').orderBy('id', 'desc').limit(input.limit + 1);
    if (input.cursor) query.where('id', '<', input.cursor);
    const rows = (await query) as AuditRow[];
    const entries = rows.slice(0, input.limit).map(toEntry);
    return { entries, nextCursor: rows.length > input.limit ? entries[entries.length - 1]!.id : null };
  }
}
