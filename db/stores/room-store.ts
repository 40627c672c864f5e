import type { Knex } from 'knex';
import { MENTION_COUNT_CAP, UNREAD_COUNT_CAP, type MemberChange, type RoomInfo, type RoomVisibility } from '../../server/protocol.js';
import { lockRoomForMembership, MembershipStore, recordIfPrivate } from './membership-store.js';
import { containsPattern } from './like-pattern.js';
import { toRoom, type RoomRow } from './row-mappers.js';
import { enqueueEvents, OPEN_GATE, type OutboxGate } from './webhook-outbox.js';

/** Who is asking: admins see every room, members public ones and their private ones. */
export interface Viewer {
  userId: string;
  isAdmin: boolean;
}

const ROOM_COLUMNS = ['rooms.id', 'rooms.name', 'rooms.visibility', 'rooms.read_only', 'rooms.archived', 'rooms.last_seq', 'rooms.read_receipts', 'rooms.retention_days', 'rooms.oldest_seq', 'rooms.created_at'];

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
  ) {
    this.membership = new MembershipStore(knex, webhooks);
  }

  private readonly membership: MembershipStore;

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
   * runs) and reads the room as it is now, with its change number (issue 13).
   * A member's join is one read. A first join of a private room is a
   * membership change (issue 14): in one transaction the room row is locked,
   * the membership inserted, and the change numbered; `joinedChange` is that
   * change, for the room's sockets. Null if there is no such room.
   */
  async joinAndRead(roomId: string, userId: string): Promise<{ room: RoomInfo; lastChange: number; joinedChange?: MemberChange } | null> {
    const read = async (db: Knex | Knex.Transaction) => {
      const { rows } = (await db.raw(
        `select ${ROOM_COLUMNS.join(', ')}, rooms.last_change,
                exists (select 1 from room_members m where m.room_id = rooms.id and m.user_id = ?) as joined,
                coalesce((select rr.read_seq from room_reads rr where rr.room_id = rooms.id and rr.user_id = ?), 0) as read_seq,
                dm_peer.id as dm_user_id, dm_peer.username as dm_username
           from rooms
           left join users dm_peer on dm_peer.id = case when rooms.dm_low = ? then rooms.dm_high else rooms.dm_low end
          where rooms.id = ?`,
        [userId, userId, userId, roomId],
      )) as { rows: (RoomRow & { last_change: string })[] };
      return rows[0];
    };
    const first = await read(this.knex);
    if (!first) return null;
    if (first.joined) return { room: toRoom(first), lastChange: Number(first.last_change) };
    return this.knex.transaction(async (trx) => {
      // Only a private room's join is a numbered change, so only it takes the room row's lock (public joins never wait for a send's commit).
      const visibility = first.visibility === 'private' ? await lockRoomForMembership(trx, roomId) : 'public';
      if (!visibility) return null;
      const { rows: added } = (await trx.raw(
        `insert into room_members (room_id, user_id) select ?, ?
          where not exists (select 1 from room_kicks k where k.room_id = ? and k.user_id = ? and k.until > now())
         on conflict (room_id, user_id) do nothing
         returning user_id`,
        [roomId, userId, roomId, userId],
      )) as { rows: unknown[] };
      let joinedChange: MemberChange | undefined;
      if (added.length > 0) {
        await this.memberEvent(trx, 'member.joined', roomId, userId);
        joinedChange = (await recordIfPrivate(trx, visibility, roomId, userId, 'joined')) ?? undefined;
      }
      const row = (await read(trx))!;
      // A running kick block keeps the user out: the caller's check refuses the join.
      const result = { room: toRoom({ ...row, joined: row.joined || added.length > 0 }), lastChange: Number(row.last_change) };
      return joinedChange ? { ...result, joinedChange } : result;
    });
  }

  /** Makes the user a member; a numbered change of the room if they were not one (see MembershipStore.add). */
  async addMember(roomId: string, userId: string): Promise<MemberChange | null> {
    return (await this.membership.add(roomId, userId))?.change ?? null;
  }

  /** Ends the membership; the numbered change if there was one (see MembershipStore.remove). */
  async removeMember(roomId: string, userId: string): Promise<MemberChange | null> {
    return (await this.membership.remove(roomId, userId))?.change ?? null;
  }

  /** Webhooks: a membership change's event, in the change's transaction. */
  private memberEvent(db: Knex | Knex.Transaction, type: 'member.joined' | 'member.left', roomId: string, userId: string): Promise<void> {
    return enqueueEvents(db, this.webhooks, [{ type, roomId, data: { roomId, userId } }]);
  }

  async update(roomId: string, patch: { name?: string; readOnly?: boolean; archived?: boolean; readReceipts?: boolean; retentionDays?: number | null }): Promise<RoomInfo | null> {
    const changes: Record<string, unknown> = {};
    if (patch.retentionDays !== undefined) changes.retention_days = patch.retentionDays;
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
      )
      // A direct room (issue 14) names the pair's other user for the viewer (for an admin outside the pair: its first user).
      .leftJoin('users as dm_peer', (j) => j.on('dm_peer.id', '=', this.knex.raw('case when rooms.dm_low = ? then rooms.dm_high else rooms.dm_low end', [viewer.userId])))
      .select('dm_peer.id as dm_user_id', 'dm_peer.username as dm_username');
    if (!viewer.isAdmin) {
      query.where((w) => w.where('rooms.visibility', 'public').orWhereNotNull('room_members.user_id'));
    }
    return query;
  }
}
