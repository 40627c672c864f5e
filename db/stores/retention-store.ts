import type { Knex } from 'knex';

/**
 * The name of the session-level advisory lock a retention sweep holds
 * (`pg_try_advisory_lock(hashtext(...))`): one node sweeps at a time; the
 * lock goes with the connection if the node dies.
 */
export const RETENTION_LOCK_NAME = 'roomcast.retention';

/** How long a room keeps its messages, in days: its own setting, else the server's; 0 keeps them. */
const ROOM_DAYS = 'coalesce(r.retention_days, ?::int)';

/**
 * Rooms whose first kept message is older than their retention, by id after
 * a cursor: one probe of messages_room_seq_unique per room (its first seq
 * still kept), never a scan of messages.
 */
export const ROOMS_DUE_SQL = `
select r.id
  from rooms r
 cross join lateral (
   select m.created_at from messages m
    where m.room_id = r.id and m.seq >= r.oldest_seq
    order by m.seq
    limit 1
 ) first
 where r.id > ?::uuid
   and ${ROOM_DAYS} > 0
   and first.created_at < now() - make_interval(days => ${ROOM_DAYS})
 order by r.id
 limit ?`;

/**
 * One bounded batch of a room's retention, in one statement (one short
 * transaction): of the room's first `batch` kept messages (a range of
 * messages_room_seq_unique from oldest_seq), those before the first one
 * that is not old enough go, so what is deleted is always a seq prefix and
 * `oldest_seq` says where history starts. With them, in the same statement:
 *  - their reactions (ON DELETE CASCADE of message_reactions);
 *  - their mention rows (message_mentions, a range of its (room_id, seq)
 *    index), so no mentionCount counts a message that is gone;
 *  - the room's oldest_seq and pruned_change (the highest change number
 *    deleted: a catch-up from before it is "too old"), and the membership
 *    changes at or below it, which no catch-up can ask for any more.
 * Unread counts need nothing: they count the messages that exist after the
 * read seq. Replies whose parent went keep their reply_to_seq (a seq below
 * oldestSeq: the parent is past retention). The room row is locked last (by
 * the update), as a send's commit locks it.
 */
export const ROOM_BATCH_SQL = `
with room as (
  select r.id, r.oldest_seq, now() - make_interval(days => ${ROOM_DAYS}) as cutoff
    from rooms r
   where r.id = ?::uuid and ${ROOM_DAYS} > 0
), head as (
  select m.id, m.seq, m.created_at
    from room
    join messages m on m.room_id = room.id and m.seq >= room.oldest_seq
   order by m.seq
   limit ?
), cut as (
  select coalesce(min(head.seq) filter (where head.created_at >= (select cutoff from room)), max(head.seq) + 1) as seq from head
), gone as (
  delete from messages m using head, cut
   where m.id = head.id and head.seq < cut.seq
  returning m.room_id, m.seq, m.change, m.mentions
), unmentioned as (
  delete from message_mentions mm
   using (select min(gone.seq) as lo, max(gone.seq) as hi from gone) g
   where mm.room_id = ?::uuid and mm.seq between g.lo and g.hi
), bumped as (
  update rooms r set oldest_seq = g.max_seq + 1, pruned_change = greatest(r.pruned_change, g.max_change)
    from (select max(gone.seq) as max_seq, max(gone.change) as max_change from gone) g
   where r.id = ?::uuid and g.max_seq is not null
  returning r.oldest_seq, r.pruned_change
), forgotten as (
  delete from room_member_changes mc using bumped
   where mc.room_id = ?::uuid and mc.change <= bumped.pruned_change
)
select (select count(*) from gone)::int as deleted, (select oldest_seq from bumped) as oldest_seq`;

/**
 * One bounded batch of audit retention: the oldest `batch` entries older
 * than the cutoff, found by audit_log_created_at (a range scan that stops
 * after `batch` rows, never a scan of the table).
 */
const AUDIT_BATCH_SQL = `
with gone as (
  delete from audit_log a
   where a.id in (
     select o.id from audit_log o
      where o.created_at < now() - make_interval(days => ?::int)
      order by o.created_at
      limit ?
   )
  returning 1
)
select count(*)::int as deleted from gone`;

/** What one batch of a room's retention did. */
export interface RoomBatch {
  deleted: number;
  /** The room's first kept seq after the batch (null: the batch deleted nothing). */
  oldestSeq: number | null;
}

const NO_ROOM = '00000000-0000-0000-0000-000000000000';

/** Retention's statements, as a sweep runs them while it holds the lock. */
export type RetentionBatches = Pick<RetentionStore, 'roomsDue' | 'deleteRoomBatch' | 'deleteAuditBatch'>;

type Connection = unknown;

/** The SQL of retention (issue 19): which rooms are due, one bounded batch at a time, under one cluster-wide lock. */
export class RetentionStore {
  constructor(
    private readonly knex: Knex,
    /** When set, every statement runs on this connection (the one holding the lock). */
    private readonly connection: Connection | null = null,
  ) {}

  /**
   * Runs `work` if this node gets the retention lock now (it does not wait).
   * The lock is session-level, taken on one pooled connection that `work`'s
   * statements then use too (the embedded PGlite has a pool of one, and the
   * lock's session is then the only one) and released on it at the end.
   * `ran: false`: another node holds it.
   */
  async exclusively<T>(work: (batches: RetentionBatches) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const client = this.knex.client as { acquireConnection(): Promise<Connection>; releaseConnection(connection: Connection): Promise<void> };
    const connection = await client.acquireConnection();
    try {
      const { rows } = (await this.knex.raw('select pg_try_advisory_lock(hashtext(?)) as locked', [RETENTION_LOCK_NAME]).connection(connection)) as {
        rows: { locked: boolean }[];
      };
      if (!rows[0]?.locked) return { ran: false };
      try {
        return { ran: true, value: await work(new RetentionStore(this.knex, connection)) };
      } finally {
        await this.knex.raw('select pg_advisory_unlock(hashtext(?))', [RETENTION_LOCK_NAME]).connection(connection);
      }
    } finally {
      await client.releaseConnection(connection);
    }
  }

  /** Up to `limit` ids of rooms with messages past their retention (`globalDays` for rooms without their own; 0: keep), after `after` by id. */
  async roomsDue(globalDays: number, after: string | null, limit: number): Promise<string[]> {
    const { rows } = (await this.raw(ROOMS_DUE_SQL, [after ?? NO_ROOM, globalDays, globalDays, limit])) as { rows: { id: string }[] };
    return rows.map((row) => row.id);
  }

  /** Deletes at most `batch` of the room's oldest messages that are past its retention (see ROOM_BATCH_SQL). */
  async deleteRoomBatch(roomId: string, globalDays: number, batch: number): Promise<RoomBatch> {
    const { rows } = (await this.raw(ROOM_BATCH_SQL, [globalDays, roomId, globalDays, batch, roomId, roomId, roomId])) as {
      rows: { deleted: number; oldest_seq: number | null }[];
    };
    return { deleted: rows[0]?.deleted ?? 0, oldestSeq: rows[0]?.oldest_seq ?? null };
  }

  /** Deletes at most `batch` audit entries older than `days`; answers how many. */
  async deleteAuditBatch(days: number, batch: number): Promise<number> {
    const { rows } = (await this.raw(AUDIT_BATCH_SQL, [days, batch])) as { rows: { deleted: number }[] };
    return rows[0]?.deleted ?? 0;
  }

  private raw(sql: string, bindings: readonly Knex.RawBinding[]) {
    const query = this.knex.raw(sql, bindings);
    return this.connection === null ? query : query.connection(this.connection);
  }
}
