import type { Knex } from 'knex';
import { SYSTEM_USER_ID, SYSTEM_USERNAME, type Role, type User } from '../../server/protocol.js';
import { iso, type UserRow } from './row-mappers.js';
import { hotPathStatements, type Statement } from './hot-path-statements.js';
import { containsPattern } from './like-pattern.js';
import { isUniqueViolation } from './unique-violation.js';
import { enqueueEvents, OPEN_GATE, type OutboxGate } from './webhook-outbox.js';

/** A user with the secret parts the auth code needs; never sent as is. */
export interface UserRecord {
  id: string;
  username: string;
  /** Null for a user of an external identity provider that gave none. */
  email: string | null;
  /** Null for a user of an external identity provider: no password signs in. */
  passwordHash: string | null;
  role: Role;
  banned: boolean;
  /** When a timed ban ends; null for a ban without end (or no ban). */
  bannedUntil: Date | null;
  createdAt: Date;
}

/** The public view of a user; `email` only for the user themself and admins. */
export function publicUser(user: UserRecord, withEmail: boolean): User {
  const view: User = {
    id: user.id,
    username: user.username,
    role: user.role,
    banned: user.banned,
    bannedUntil: user.bannedUntil ? iso(user.bannedUntil) : null,
    createdAt: iso(user.createdAt),
  };
  if (withEmail && user.email !== null) view.email = user.email;
  return view;
}

export class DuplicateUserError extends Error {
  constructor(readonly field: 'username' | 'email') {
    super(`${field} is taken`);
  }
}

// Serialises registrations so that exactly one first user becomes admin.
export const FIRST_USER_LOCK_KEY = 72_110_002;

export const toRecord = (row: UserRow): UserRecord => ({
  id: row.id,
  username: row.username,
  email: row.email,
  passwordHash: row.password_hash,
  role: row.role,
  banned: row.banned,
  bannedUntil: row.banned_until,
  createdAt: row.created_at,
});

/**
 * What every token check reads (issue 18: one round trip per handshake):
 * the user, and whether the login (refresh-token family) named by the token
 * still has a live token. A null family reads as not live.
 */
const SESSION_USER_SQL = `
select u.id, u.username, u.email, u.password_hash, u.role, u.banned, u.banned_until, u.created_at,
       exists (select 1 from refresh_tokens t where t.family_id = ?::uuid and t.revoked_at is null) as login_live
  from users u
 where u.id = ?::uuid`;

export class UserStore {
  private readonly run: Statement;

  constructor(
    private readonly knex: Knex,
    private readonly webhooks: OutboxGate = OPEN_GATE,
  ) {
    this.run = hotPathStatements(knex);
  }

  /** Creates a user; the first user ever becomes admin, everyone after a member. */
  async create(input: { username: string; email: string; passwordHash: string }): Promise<UserRecord> {
    try {
      return await this.knex.transaction(async (trx) => {
        await trx.raw('select pg_advisory_xact_lock(?)', [FIRST_USER_LOCK_KEY]);
        // The system user (server API) is nobody's registration.
        const anyone = await trx('users').whereNot({ id: SYSTEM_USER_ID }).first('id');
        const [row] = await trx('users')
          .insert({
            username: input.username,
            email: input.email,
            password_hash: input.passwordHash,
            role: anyone ? 'member' : 'admin',
          })
          .returning('*');
        return toRecord(row as UserRow);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'users_username_lower_unique')) throw new DuplicateUserError('username');
      if (isUniqueViolation(err, 'users_email_lower_unique')) throw new DuplicateUserError('email');
      throw err;
    }
  }

  /** Which of a username and an email an existing user already has (letter case ignored), or null. */
  async findTaken(username: string, email: string): Promise<'username' | 'email' | null> {
    const row = await this.knex<UserRow>('users')
      .whereRaw('lower(username) = ?', [username.toLowerCase()])
      .orWhereRaw('lower(email) = ?', [email.toLowerCase()])
      .orderByRaw('lower(username) = ? desc', [username.toLowerCase()])
      .first('username');
    if (!row) return null;
    return row.username.toLowerCase() === username.toLowerCase() ? 'username' : 'email';
  }

  /** Finds a user by username or email, ignoring letter case. */
  async findByLogin(login: string): Promise<UserRecord | null> {
    const lowered = login.toLowerCase();
    const row = await this.knex<UserRow>('users')
      .whereRaw('lower(username) = ?', [lowered])
      .orWhereRaw('lower(email) = ?', [lowered])
      .first();
    return row ? toRecord(row) : null;
  }

  /**
   * The sender of server API messages published without a user, made on
   * first use (by whichever node gets there first). Its username has an `@`,
   * which registration refuses, so no account can take or imitate it, and its
   * password hash is no bcrypt hash, so no password opens it. An admin, so
   * read-only rooms take its messages.
   */
  async ensureSystemUser(): Promise<UserRecord> {
    await this.knex('users')
      .insert({ id: SYSTEM_USER_ID, username: SYSTEM_USERNAME, email: 'system@roomcast.invalid', password_hash: '*', role: 'admin' })
      .onConflict('id')
      .ignore();
    return (await this.findById(SYSTEM_USER_ID))!;
  }

  async findById(id: string): Promise<UserRecord | null> {
    const row = await this.knex<UserRow>('users').where({ id }).first();
    return row ? toRecord(row) : null;
  }

  /**
   * The user and whether the login `familyId` is live (not logged out,
   * revoked or expired by a ban or role change), read in one statement:
   * `TokenAuthentication` asks this on every handshake and REST call.
   */
  async findWithLogin(id: string, familyId: string | null): Promise<{ user: UserRecord; loginLive: boolean } | null> {
    const [row] = await this.run<UserRow & { login_live: boolean }>('roomcast_session_user', SESSION_USER_SQL, [familyId, id]);
    return row ? { user: toRecord(row), loginLive: row.login_live } : null;
  }

  async findByUsername(username: string): Promise<UserRecord | null> {
    const row = await this.knex<UserRow>('users').whereRaw('lower(username) = ?', [username.toLowerCase()]).first();
    return row ? toRecord(row) : null;
  }

  /**
   * Sets role and/or the ban (with its end, if any: a ban without `bannedUntil`
   * has none, and lifting a ban clears it); returns the user after the change,
   * or null if absent.
   */
  async update(id: string, patch: { role?: Role; banned?: boolean; bannedUntil?: Date | null }): Promise<UserRecord | null> {
    const changes: Partial<UserRow> = {};
    if (patch.role !== undefined) changes.role = patch.role;
    if (patch.banned !== undefined) {
      changes.banned = patch.banned;
      changes.banned_until = patch.banned ? (patch.bannedUntil ?? null) : null;
    }
    const write = async (db: Knex | Knex.Transaction) => {
      const query = db<UserRow>('users').where({ id });
      const [row] = Object.keys(changes).length ? await query.update(changes).returning('*') : await query.select('*');
      if (!row) return null;
      const user = toRecord(row as UserRow);
      // Webhooks: a ban's event commits with it.
      if (patch.banned === true) {
        await enqueueEvents(db, this.webhooks, [{ type: 'user.banned', roomId: null, data: { userId: id, username: user.username, bannedUntil: user.bannedUntil ? iso(user.bannedUntil) : null } }]);
      }
      return user;
    };
    return patch.banned === true && this.webhooks.wants('user.banned') ? this.knex.transaction(write) : write(this.knex);
  }

  /**
   * Lifts every timed ban whose end has passed and writes its `unban` audit
   * entry (no actor), in one statement. The rows are locked and checked again
   * under the lock, so when several nodes sweep at once each ban is lifted,
   * and audited, by exactly one of them. Returns the ids of the users lifted.
   */
  async liftExpiredBans(): Promise<string[]> {
    const { rows } = (await this.knex.raw(
      `with expired as (
         select id, banned_until from users
          where banned and banned_until is not null and banned_until <= now()
            for update
       ), lifted as (
         update users u set banned = false, banned_until = null
           from expired e
          where u.id = e.id
         returning u.id, e.banned_until
       ), audited as (
         insert into audit_log (actor_id, action, target_type, target_id, details)
         select null, 'unban', 'user', id::text, jsonb_build_object('expired', true, 'bannedUntil', banned_until)
           from lifted
         returning target_id
       )
       select target_id as id from audited`,
    )) as { rows: { id: string }[] };
    return rows.map((row) => row.id);
  }

  /** Users ordered by username; `cursor` is the last username of the previous page. */
  async search(input: { q?: string; limit: number; cursor?: string }): Promise<{ users: UserRecord[]; nextCursor: string | null }> {
    const query = this.knex<UserRow>('users').orderByRaw('lower(username)').limit(input.limit + 1);
    if (input.q) {
      const pattern = containsPattern(input.q.toLowerCase());
      query.where((w) => w.whereRaw('lower(username) like ?', [pattern]).orWhereRaw('lower(email) like ?', [pattern]));
    }
    if (input.cursor) query.whereRaw('lower(username) > ?', [input.cursor.toLowerCase()]);
    const rows = await query;
    const page = rows.slice(0, input.limit).map(toRecord);
    const nextCursor = rows.length > input.limit ? page[page.length - 1]!.username.toLowerCase() : null;
    return { users: page, nextCursor };
  }
}
