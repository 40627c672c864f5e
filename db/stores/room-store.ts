import type { Knex } from 'knex';
import type { RoomInfo, RoomVisibility } from '../../server/protocol.js';
import { containsPattern } from './like-pattern.js';
import { toRoom, type RoomRow } from './row-mappers.js';

/** Who is asking: admins see every room, members public ones and their private ones. */
export interface Viewer {
  userId: string;
  isAdmin: boolean;
}

const ROOM_COLUMNS = ['rooms.id', 'rooms.name', 'rooms.visibility', 'rooms.read_only', 'rooms.archived', 'rooms.last_seq', 'rooms.created_at'];

export class RoomStore {
  constructor(private readonly knex: Knex) {}

  /** Creates a room; its creator becomes its first member. */
  async create(input: { name: string; visibility: RoomVisibility; readOnly: boolean; createdBy: string }): Promise<RoomInfo> {
    return this.knex.transaction(async (trx) => {
      const [row] = await trx('rooms')
        .insert({ name: input.name, visibility: input.visibility, read_only: input.readOnly, created_by: input.createdBy })
        .returning(ROOM_COLUMNS.map((c) => c.replace('rooms.', '')));
      const room = row as RoomRow;
      await trx('room_members').insert({ room_id: room.id, user_id: input.createdBy });
      return toRoom({ ...room, joined: true });
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
    const { rows } = (await this.knex.raw(
      `with added as (
         insert into room_members (room_id, user_id) select id, ? from rooms where id = ?
            and not exists (select 1 from room_kicks k where k.room_id = rooms.id and k.user_id = ? and k.until > now())
         on conflict (room_id, user_id) do nothing
       )
       select ${ROOM_COLUMNS.join(', ')}, rooms.last_change, true as joined from rooms where rooms.id = ?`,
      [userId, roomId, userId, roomId],
    )) as { rows: (RoomRow & { last_change: string })[] };
    const row = rows[0];
    return row ? { room: toRoom(row), lastChange: Number(row.last_change) } : null;
  }

  /** Records membership; joining twice is harmless. */
  async addMember(roomId: string, userId: string): Promise<void> {
    await this.knex('room_members').insert({ room_id: roomId, user_id: userId }).onConflict(['room_id', 'user_id']).ignore();
  }

  /** Returns whether a membership was removed. */
  async removeMember(roomId: string, userId: string): Promise<boolean> {
    const removed = await this.knex('room_members').where({ room_id: roomId, user_id: userId }).delete();
    return removed > 0;
  }

  async update(roomId: string, patch: { name?: string; readOnly?: boolean; archived?: boolean }): Promise<RoomInfo | null> {
    const changes: Record<string, unknown> = {};
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
