import type { Knex } from 'knex';
import type { MemberChange, RoomVisibility } from '../../server/protocol.js';
import { iso } from './row-mappers.js';
import { enqueueEvents, OPEN_GATE, type OutboxGate } from './webhook-outbox.js';

type Db = Knex | Knex.Transaction;

/**
 * Numbers one membership change from the room's change counter and records
 * it, in the caller's transaction (which holds the room row's lock, taken
 * before the membership row: the order edits take too, so the two cannot
 * deadlock). Shared by every way membership changes (joins, invites,
 * removals, leaves, kicks), so all of them are changes of the room.
 */
export async function recordMemberChange(trx: Db, roomId: string, userId: string, kind: MemberChange['kind']): Promise<MemberChange> {
  const { rows } = (await trx.raw(
    `with bumped as (
       update rooms set last_change = last_change + 1 where id = ? returning last_change
     ), ins as (
       insert into room_member_changes (room_id, change, user_id, kind)
       select ?, last_change, ?, ? from bumped
       returning room_id, change, user_id, kind, at
     )
     select ins.room_id, ins.change, ins.user_id, ins.kind, ins.at, u.username from ins join users u on u.id = ins.user_id`,
    [roomId, roomId, userId, kind],
  )) as { rows: MemberChangeRow[] };
  return toMemberChange(rows[0]!);
}

/**
 * Locks the room row for a membership change (FOR NO KEY UPDATE, as message
 * edits do) and answers its visibility; null: no such room.
 */
export async function lockRoomForMembership(trx: Db, roomId: string): Promise<RoomVisibility | null> {
  const { rows } = (await trx.raw('select visibility from rooms where id = ? for no key update', [roomId])) as { rows: { visibility: RoomVisibility }[] };
  return rows[0]?.visibility ?? null;
}

/**
 * **Decision:** only a private room's membership changes are changes of the
 * room (numbered, told, replayed): there membership decides who sees the
 * room. In a public room anyone may read and membership only records a
 * join, so it stays off the change log and off the join's fast path.
 */
export async function recordIfPrivate(trx: Db, visibility: RoomVisibility, roomId: string, userId: string, kind: MemberChange['kind']): Promise<MemberChange | null> {
  return visibility === 'private' ? recordMemberChange(trx, roomId, userId, kind) : null;
}

interface MemberChangeRow {
  room_id: string;
  change: string | number;
  user_id: string;
  kind: MemberChange['kind'];
  at: Date;
  username: string;
}

export const toMemberChange = (row: MemberChangeRow): MemberChange => ({
  roomId: row.room_id,
  userId: row.user_id,
  username: row.username,
  kind: row.kind,
  change: Number(row.change),
  at: iso(row.at),
});

/** SQL of the membership changes of a room in a change window, as JSON (one InitPlan: bound parameters only). */
export const MEMBER_CHANGES_JSON_SQL = `(
  select coalesce(json_agg(c order by c.change), '[]'::json) from (
    select mc.room_id, mc.change, mc.user_id, mc.kind, mc.at, u.username
      from room_member_changes mc join users u on u.id = mc.user_id
     where mc.room_id = ?::uuid and mc.change > ?::bigint
       and mc.change <= coalesce(?::bigint, (select r2.last_change from rooms r2 where r2.id = ?::uuid))
     order by mc.change
     limit ?
  ) c)`;

/** Rows of MEMBER_CHANGES_JSON_SQL as they come back through json (timestamps as strings). */
export const memberChangesFromJson = (rows: (Omit<MemberChangeRow, 'at'> & { at: string })[]): MemberChange[] =>
  rows.map((row) => toMemberChange({ ...row, at: new Date(row.at) }));

/** What adding or removing a member did: the numbered change (private rooms), or null when none; `removed`: a membership ended. */
export type MembershipOutcome = { change: MemberChange | null; removed?: boolean };

/** Memberships of rooms as changes of the room (issue 14), the members list, and direct rooms. */
export class MembershipStore {
  constructor(
    private readonly knex: Knex,
    private readonly webhooks: OutboxGate = OPEN_GATE,
  ) {}

  /** Makes the user a member; a numbered change if they were not one. Null: no such room. */
  add(roomId: string, userId: string): Promise<MembershipOutcome | null> {
    return this.knex.transaction(async (trx) => {
      const visibility = await lockRoomForMembership(trx, roomId);
      if (!visibility) return null;
      const added = await trx('room_members').insert({ room_id: roomId, user_id: userId }).onConflict(['room_id', 'user_id']).ignore().returning('user_id');
      if (added.length === 0) return { change: null };
      await enqueueEvents(trx, this.webhooks, [{ type: 'member.joined', roomId, data: { roomId, userId } }]);
      return { change: await recordIfPrivate(trx, visibility, roomId, userId, 'joined') };
    });
  }

  /** Ends the membership; a numbered change if there was one. Null: no such room. */
  remove(roomId: string, userId: string): Promise<MembershipOutcome | null> {
    return this.knex.transaction(async (trx) => {
      const visibility = await lockRoomForMembership(trx, roomId);
      if (!visibility) return null;
      const removed = await trx('room_members').where({ room_id: roomId, user_id: userId }).delete();
      if (removed === 0) return { change: null, removed: false };
      await enqueueEvents(trx, this.webhooks, [{ type: 'member.left', roomId, data: { roomId, userId } }]);
      return { change: await recordIfPrivate(trx, visibility, roomId, userId, 'left'), removed: true };
    });
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return (await this.knex('room_members').where({ room_id: roomId, user_id: userId }).first('user_id')) !== undefined;
  }

  /** The room's creator, if it has one (rooms of the server API have none). */
  async ownerOf(roomId: string): Promise<string | null> {
    const row = (await this.knex('rooms').where({ id: roomId }).first('created_by')) as { created_by: string | null } | undefined;
    return row?.created_by ?? null;
  }

  /** Whether the room is a direct room (its membership is fixed: the pair). */
  async isDirect(roomId: string): Promise<boolean> {
    const row = (await this.knex('rooms').where({ id: roomId }).first('dm_low')) as { dm_low: string | null } | undefined;
    return row?.dm_low != null;
  }

  /** A page of the room's members by user id, after `cursor` (a user id); `online` is the caller's to fill. */
  async page(roomId: string, after: string | null, limit: number): Promise<{ members: { userId: string; username: string; owner: boolean }[]; nextCursor: string | null }> {
    const query = this.knex('room_members as rm')
      .join('users as u', 'u.id', 'rm.user_id')
      .join('rooms as r', 'r.id', 'rm.room_id')
      .where('rm.room_id', roomId)
      .select('rm.user_id', 'u.username', this.knex.raw('(r.created_by is not distinct from rm.user_id) as owner'))
      .orderBy('rm.user_id')
      .limit(limit + 1);
    if (after) query.where('rm.user_id', '>', after);
    const rows = (await query) as { user_id: string; username: string; owner: boolean }[];
    const members = rows.slice(0, limit).map((row) => ({ userId: row.user_id, username: row.username, owner: row.owner }));
    return { members, nextCursor: rows.length > limit ? members[members.length - 1]!.userId : null };
  }

  /**
   * The direct room of the pair, made if absent: private, named after the
   * pair, with exactly its two users as members (its creation is not a
   * change, as a room's creator joining it is not). Two callers at once, on
   * any nodes, get the one room: the unique pair index lets one insert win,
   * the other finds its row. `created`: this call made it.
   */
  async openDirect(a: { id: string; username: string }, b: { id: string; username: string }): Promise<{ roomId: string; created: boolean }> {
    const [low, high] = a.id < b.id ? [a.id, b.id] : [b.id, a.id];
    // The name is for clients that know no `dm` field; the room list shows each user the other's name.
    const name = `${a.username} · ${b.username}`.slice(0, 64);
    return this.knex.transaction(async (trx) => {
      const inserted = (await trx.raw(
        `insert into rooms (name, visibility, read_only, created_by, dm_low, dm_high)
         values (?, 'private', false, ?, ?, ?)
         on conflict (dm_low, dm_high) where dm_low is not null do nothing
         returning id`,
        [name, a.id, low, high],
      )) as { rows: { id: string }[] };
      const made = inserted.rows[0];
      if (!made) {
        const existing = (await trx('rooms').where({ dm_low: low, dm_high: high }).first('id')) as { id: string };
        return { roomId: existing.id, created: false };
      }
      await trx('room_members').insert([
        { room_id: made.id, user_id: low },
        { room_id: made.id, user_id: high },
      ]);
      return { roomId: made.id, created: true };
    });
  }
}
