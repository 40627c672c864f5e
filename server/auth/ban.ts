import type { UserRecord } from '../../db/stores/user-store.js';

type BanFacts = Pick<UserRecord, 'banned' | 'bannedUntil'>;

/**
 * Whether the user's ban holds now. A timed ban whose end has passed is no
 * ban, at once and on every node, even before BanExpiry has lifted (and
 * audited) it in the database.
 */
export function banInForce(user: BanFacts, now: number = Date.now()): boolean {
  return user.banned && (user.bannedUntil === null || user.bannedUntil.getTime() > now);
}

/** The user as they stand now: a ban that has run out reads as none (until the sweep writes it so). */
export function withCurrentBan<U extends BanFacts>(user: U, now: number = Date.now()): U {
  return user.banned && !banInForce(user, now) ? { ...user, banned: false, bannedUntil: null } : user;
}
