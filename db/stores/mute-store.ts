import type { Knex } from 'knex';

/** Per-room mutes with an expiry; the message store checks them at write time. */
export class MuteStore {
  constructor(private readonly knex: Knex) {}

  /** Mutes for `minutes` from now; 0 lifts the mute. */
  async set(roomId: string, userId: string, minutes: number): Promise<void> {
    if (minutes === 0) {
      await this.knex('mutes').where({ room_id: roomId, user_id: userId }).delete();
      return;
    }
    const expiresAt = new Date(Date.now() + minutes * 60_000);
    await this.knex('mutes').insert({ room_id: roomId, user_id: userId, expires_at: expiresAt }).onConflict(['room_id', 'user_id']).merge({ expires_at: expiresAt });
  }
}
