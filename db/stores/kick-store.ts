import type { Knex } from 'knex';
import type { MemberChange } from '../../server/protocol.js';
import { lockRoomForMembership, recordIfPrivate } from './membership-store.js';
import { enqueueEvents, OPEN_GATE, type OutboxGate } from './webhook-outbox.js';

/** Kicks: the membership row goes, and a block keeps the user out of the room until a time. */
export class KickStore {
  constructor(
    private readonly knex: Knex,
    private readonly webhooks: OutboxGate = OPEN_GATE,
  ) {}

  /**
   * Ends the user's membership of the room and, with `until`, blocks the room
   * for them until then (a later kick replaces the time); in one transaction.
   * Returns whether a membership was removed.
   */
  async kick(roomId: string, userId: string, until: Date | null): Promise<{ removed: boolean; change: MemberChange | null }> {
    return this.knex.transaction(async (trx) => {
      // The room row first, as every membership change (and every edit) takes it: no deadlock between them.
      const visibility = await lockRoomForMembership(trx, roomId);
      const removed = await trx('room_members').where({ room_id: roomId, user_id: userId }).delete();
      if (until) {
        await trx('room_kicks').insert({ room_id: roomId, user_id: userId, until }).onConflict(['room_id', 'user_id']).merge({ until });
      } else {
        await trx('room_kicks').where({ room_id: roomId, user_id: userId }).delete();
      }
      // Webhooks: the membership's end commits with the kick.
      if (removed === 0) return { removed: false, change: null };
      await enqueueEvents(trx, this.webhooks, [{ type: 'member.left', roomId, data: { roomId, userId, kicked: true } }]);
      // The membership's end is a change of the room (issue 14).
      return { removed: true, change: visibility ? await recordIfPrivate(trx, visibility, roomId, userId, 'left') : null };
    });
  }

  /** The end of the user's block from the room, if one is still running. */
  async blockedUntil(roomId: string, userId: string): Promise<Date | null> {
    const row = (await this.knex('room_kicks')
      .select('until')
      .where({ room_id: roomId, user_id: userId })
      .andWhere('until', '>', this.knex.fn.now())
      .first()) as { until: Date } | undefined;
    return row ? row.until : null;
  }
}
