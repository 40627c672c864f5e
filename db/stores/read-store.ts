import type { Knex } from 'knex';
import type { RoomRead } from '../../server/protocol.js';

/** Where a user's read position is after an `advance`, and whether the call moved it. */
export interface ReadAdvance {
  readSeq: number;
  moved: boolean;
}

/** Per-user read positions (room_reads). The caller checks visibility and the seq's range. */
export class ReadStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Moves the user's read seq up to `seq`; a lower or equal `seq` leaves it
   * where it is (monotonic, decided by the row itself, so two devices racing
   * cannot move it back). Answers the stored value either way.
   */
  async advance(roomId: string, userId: string, seq: number): Promise<ReadAdvance> {
    const { rows } = (await this.knex.raw(
      `insert into room_reads (room_id, user_id, read_seq) values (?, ?, ?)
       on conflict (room_id, user_id) do update set read_seq = excluded.read_seq, updated_at = now()
        where room_reads.read_seq < excluded.read_seq
       returning read_seq`,
      [roomId, userId, seq],
    )) as { rows: { read_seq: number }[] };
    if (rows[0]) return { readSeq: rows[0].read_seq, moved: true };
    const row = (await this.knex('room_reads').select('read_seq').where({ room_id: roomId, user_id: userId }).first()) as { read_seq: number } | undefined;
    return { readSeq: row?.read_seq ?? 0, moved: false };
  }

  /**
   * The read seqs of the room's members, by user id, `limit` at a time after
   * `cursor` (a user id). Read state of non-members (public rooms read
   * without joining) is kept for their badges but not listed.
   */
  async listMembers(roomId: string, page: { limit: number; cursor?: string | undefined }): Promise<{ reads: RoomRead[]; nextCursor: string | null }> {
    const query = this.knex('room_reads as rr')
      .join('room_members as rm', (j) => j.on('rm.room_id', '=', 'rr.room_id').andOn('rm.user_id', '=', 'rr.user_id'))
      .join('users as u', 'u.id', 'rr.user_id')
      .select('rr.user_id', 'u.username', 'rr.read_seq')
      .where('rr.room_id', roomId)
      .orderBy('rr.user_id')
      .limit(page.limit + 1);
    if (page.cursor) query.where('rr.user_id', '>', page.cursor);
    const rows = (await query) as { user_id: string; username: string; read_seq: number }[];
    const reads = rows.slice(0, page.limit).map((r) => ({ userId: r.user_id, username: r.username, readSeq: r.read_seq }));
    return { reads, nextCursor: rows.length > page.limit ? reads[reads.length - 1]!.userId : null };
  }
}
