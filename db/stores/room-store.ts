import type { Knex } from 'knex';
import { MENTION_COUNT_CAP, UNREAD_COUNT_CAP, type RoomInfo, type RoomVisibility } from '../../server/protocol.js';
import { containsPattern } from './like-pattern.js';
import { toRoom, type RoomRow } from './row-mappers.js';
import { enqueueEvents, OPEN_GATE, type OutboxGate } from './webhook-outbox.js';

/** Who is asking: admins see every room, members public ones and their private ones. */
export interface Viewer {
  userId: string;
  isAdmin: boolean;
}

const ROOM_COLUMNS = ['rooms.id', 'rooms.name', 'rooms.visibility', 'rooms.read_only', 'rooms.archived', 'rooms.last_seq', 'rooms.read_receipts', 'rooms.created_at'];

/**
 * The viewer's unread messages in a room: after their read seq, not their
 * own, not deleted. Bounded: an ordered range scan of messages_room_seq_unique
 * that stops after UNREAD_COUNT_CAP matches (so the count saturates there), never
 * a scan of the room's history. A room the viewer never joined nor read counts 0:
 * a public room they never entered is not "unread".
 */
const UNREAD_COUNT_SQL = `case when rr.user_id is null and room_members.user_id is null then 0 else (
  select count(*)::int from (
    select 1 from messages m
     where m.room_id = rooms.id and m.seq > coalesce(rr.read_seq, 0) and m.user_id <> ? and m.deleted_at is null
     order by m.seq limit ${UNREAD_COUNT_CAP}
  ) unread) end`;

/**
 * Mentions (issue 14): the viewer's mentions in a room after their read seq
 * (a deletion removes its message's rows, so none is of a deleted message).
 * Bounded like UNREAD_COUNT_SQL: an index-only range scan of message_mentions'
 * primary key (user, room, seq) that stops after MENTION_COUNT_CAP rows.
 */
const MENTION_COUNT_SQL = `(
  select count(*)::int from (
    select 1 from message_mentions mm
     where mm.user_id = ? and mm.room_id = rooms.id and mm.seq > coalesce(rr.read_seq, 0)
     order by mm.seq limit ${MENTION_COUNT_CAP}
  ) mentioned)`;

export class RoomStore {
  constructor(
    private readonly knex: Knex,
    private readonly webhooks: OutboxGate = OPEN_GATE,
  ) {}

  /** Creates a room; its creator (if a user: the server API creates rooms without one) becomes its first member. */
  async create(input: { name: string; visibility: RoomVisibility; readOnly: boolean; createdBy: string | null }): Promise<RoomInfo> {
    return this.knex.transaction(async (trx) => {
      const [row] = await trx('rooms')
        .insert({ name: input.name, visibility: input.visibility, read_only: input.readOnly, created_by: input.createdBy })
        .returning(ROOM_COLUMNS.map((c) => c.replace('rooms.', '')));
      const room = row as RoomRow;
      const created = toRoom(room);
      // A room made by the server API has no creator (createdBy null) and no first member, but it is created all the same.
      if (input.createdBy !== null) await trx('room_members').insert({ room_id: room.id, user_id: input.createdBy });
      await enqueueEvents(trx, this.webhooks, [{ type: 'room.created', roomId: created.id, data: { ...created, createdBy: input.createdBy } }]);
      return input.createdBy === null ? created : { ...created, joined: true };
    });
  }

  /**
   * A page of the rooms the viewer may see, newest first, with `joined` for
   * their memberships; `q` keeps names containing it (any letter case).
   * Keyset paging on (created_at, id): `cursor` is the last room of the
   * previous page, so rooms created meanwhile neither repeat nor shift a page.
   */
  async listVisible(viewer: Viewer, page: { q?: string | undefined; limit: number; cursor?: string | undefined }): Promise<{ rooms: RoomInfo[]; nextCursor: string | null }> {
    const query = this.visibleQuery(viewer)
      .leftJoin('room_reads as rr', (j) => j.on('rr.room_id', '=', 'rooms.id').andOn('rr.user_id', '=', this.knex.raw('?', [viewer.userId])))
      .select(this.knex.raw('coalesce(rr.read_seq, 0) as read_seq'))
      .select(this.knex.raw(`${UNREAD_COUNT_SQL} as unread_count`, [viewer.userId]))
      .select(this.knex.raw(`${MENTION_COUNT_SQL} as mention_count`, [viewer.userId]))
      .orderBy('rooms.created_at', 'desc')
      .orderBy('rooms.id', 'desc')
      .limit(page.limit + 1);
    if (page.q) query.whereRaw('lower(rooms.name) like ?', [containsPattern(page.q.toLowerCase())]);
    if (page.cursor) {
      // Compared in SQL against the stored row: a timestamp through JavaScript would lose its microseconds.
      query.whereRaw('(rooms.created_at, rooms.id) < (select c.created_at, c.id from rooms c where c.id = ?)', [page.cursor]);
    }
    const rows = (await query) as RoomRow[];
    const rooms = rows.slice(0, page.limit).map(toRoom);
    return { rooms, nextCursor: rows.length > page.limit ? rooms[rooms.length - 1]!.id : null };
  }

  /** The room if the viewer may see it; null for absent and hidden alike. */
  async findVisible(roomId: string, viewer: Viewer): Promise<RoomInfo | null> {
    const row = await this.visibleQuery(viewer).where('rooms.id', roomId).first();
    return row ? toRoom(row as RoomRow) : null;
  }

  async findById(roomId: string): Promise<RoomInfo | null> {
    const row = await this.knex('rooms').select(ROOM_COLUMNS).where('rooms.id', roomId).first();
    return row ? toRoom(row as RoomRow) : null;
  }

  /**
   * Records membership (joining twice is harmless; not while a kick's block
   * runs) and reads the room as it is now, with its change number (issue 13),
   * in one statement; null if there is no such room.
   */
  async joinAndRead(roomId: string, userId: string): Promise<{ room: RoomInfo; lastChange: number } | null> {
    const join = async (db: Knex | Knex.Transaction) => {
      const { rows } = (await db.raw(
        `with added as (
           insert into room_members (room_id, user_id) select id, ? from rooms where id = ?
              and not exists (select 1 from room_kicks k where k.room_id = rooms.id and k.user_id = ? and k.until > now())
           on conflict (room_id, user_id) do nothing
           returning user_id
         )
         select ${ROOM_COLUMNS.join(', ')}, rooms.last_change, true as joined, exists (select 1 from added) as added,
                coalesce((select rr.read_seq from room_reads rr where rr.room_id = rooms.id and rr.user_id = ?), 0) as read_seq
           from rooms where rooms.id = ?`,
        [userId, roomId, userId, userId, roomId],
      )) as { rows: (RoomRow & { added: boolean; last_change: string })[] };
      const row = rows[0];
      if (row?.added) await this.memberEvent(db, 'member.joined', roomId, userId);
      return row ? { room: toRoom(row), lastChange: Number(row.last_change) } : null;
    };
    return this.webhooks.wants('member.joined') ? this.knex.transaction(join) : join(this.knex);
  }

  /** Records membership; joining twice is harmless. */
  async addMember(roomId: string, userId: string): Promise<void> {
    const add = async (db: Knex | Knex.Transaction) => {
      const added = await db('room_members').insert({ room_id: roomId, user_id: userId }).onConflict(['room_id', 'user_id']).ignore().returning('user_id');
      if (added.length > 0) await this.memberEvent(db, 'member.joined', roomId, userId);
    };
    await (this.webhooks.wants('member.joined') ? this.knex.transaction(add) : add(this.knex));
  }

  /** Returns whether a membership was removed. */
  async removeMember(roomId: string, userId: string): Promise<boolean> {
    const remove = async (db: Knex | Knex.Transaction) => {
      const removed = await db('room_members').where({ room_id: roomId, user_id: userId }).delete();
      if (removed > 0) await this.memberEvent(db, 'member.left', roomId, userId);
      return removed > 0;
    };
    return this.webhooks.wants('member.left') ? this.knex.transaction(remove) : remove(this.knex);
  }

  /** Webhooks: a membership change's event, in the change's transaction. */
  private memberEvent(db: Knex | Knex.Transaction, type: 'member.joined' | 'member.left', roomId: string, userId: string): Promise<void> {
    return enqueueEvents(db, this.webhooks, [{ type, roomId, data: { roomId, userId } }]);
  }

  async update(roomId: string, patch: { name?: string; readOnly?: boolean; archived?: boolean; readReceipts?: boolean }): Promise<RoomInfo | null> {
    const changes: Record<string, unknown> = {};
    if (patch.readReceipts !== undefined) changes.read_receipts = patch.readReceipts;
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.readOnly !== undefined) changes.read_only = patch.readOnly;
    if (patch.archived !== undefined) changes.archived = patch.archived;
    const query = this.knex('rooms').where({ id: roomId });
    const [row] = Object.keys(changes).length
      ? await query.update(changes).returning(ROOM_COLUMNS.map((c) => c.replace('rooms.', '')))
      : await query.select(ROOM_COLUMNS);
    return row ? toRoom(row as RoomRow) : null;
  }

  private visibleQuery(viewer: Viewer) {
    const query = this.knex('rooms')
      .select(ROOM_COLUMNS)
      .select(this.knex.raw('(room_members.user_id is not null) as joined'))
      .leftJoin('room_members', (j) =>
        j.on('room_members.room_id', '=', 'rooms.id').andOn('room_members.user_id', '=', this.knex.raw('?', [viewer.userId])),
      );
    if (!viewer.isAdmin) {
      query.where((w) => w.where('rooms.visibility', 'public').orWhereNotNull('room_members.user_id'));
    }
    return query;
  }
}
