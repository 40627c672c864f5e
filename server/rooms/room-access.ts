import type { KickStore } from '../../db/stores/kick-store.js';
import { AppError } from '../errors.js';

/** What `forbidden` carries when a kick keeps the user out: `until` is when they may join again. */
export interface KickedDetails {
  reason: 'kicked';
  until: string;
}

/**
 * Who may come back into a room after a kick: nobody kicked, admin or not,
 * until the kick's block ends (a kick of 0 minutes only removes). The send
 * side of the same rule is checked inside the commit (message-rules.ts, `kicked`).
 */
export class RoomAccess {
  constructor(private readonly kicks: Pick<KickStore, 'blockedUntil'>) {}

  /** Throws `forbidden` with details { reason: 'kicked', until } while a kick's block runs. */
  async assertMayJoin(userId: string, roomId: string): Promise<void> {
    const until = await this.kicks.blockedUntil(roomId, userId);
    if (!until) return;
    const details: KickedDetails = { reason: 'kicked', until: until.toISOString() };
    throw new AppError('forbidden', `you were kicked from this room; you may join again at ${details.until}`, details);
  }
}
