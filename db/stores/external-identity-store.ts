import type { Knex } from 'knex';
import type { Role } from '../../server/protocol.js';
import type { UserRow } from './row-mappers.js';
import { isUniqueViolation } from './unique-violation.js';
import { FIRST_USER_LOCK_KEY, toRecord, type UserRecord } from './user-store.js';

/** Who an external identity provider says a token's holder is. */
export interface ExternalIdentity {
  issuer: string;
  subject: string;
}

/** The username every candidate was taken for: the caller tries others. */
export class UsernameTakenError extends Error {}

/** (issuer, subject) of an app's identity provider → the Roomcast user it maps to. */
export class ExternalIdentityStore {
  constructor(private readonly knex: Knex) {}

  async findUser(identity: ExternalIdentity): Promise<UserRecord | null> {
    const row = await this.knex<UserRow>('users')
      .join('external_identities', 'external_identities.user_id', 'users.id')
      .where({ 'external_identities.issuer': identity.issuer, 'external_identities.subject': identity.subject })
      .first('users.*');
    return row ? toRecord(row as UserRow) : null;
  }

  /**
   * Creates the user and its identity in one transaction, under the first
   * user's lock like every sign-up (so the first user ever is the admin
   * unless `role` says otherwise). Returns the user another node created
   * meanwhile for the same identity, if one did; throws UsernameTakenError
   * when `username` is taken.
   */
  async createUser(identity: ExternalIdentity, input: { username: string; email: string | null; role: Role | null }): Promise<UserRecord> {
    try {
      return await this.knex.transaction(async (trx) => {
        await trx.raw('select pg_advisory_xact_lock(?)', [FIRST_USER_LOCK_KEY]);
        const anyone = await trx('users').first('id');
        const [row] = await trx('users')
          .insert({ username: input.username, email: input.email, password_hash: null, role: input.role ?? (anyone ? 'member' : 'admin') })
          .returning('*');
        await trx('external_identities').insert({ issuer: identity.issuer, subject: identity.subject, user_id: (row as UserRow).id });
        return toRecord(row as UserRow);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'external_identities_pkey')) {
        const existing = await this.findUser(identity);
        if (existing) return existing;
      }
      if (isUniqueViolation(err, 'users_username_lower_unique')) throw new UsernameTakenError(input.username);
      // An email a built-in account already has: the user is created without it.
      if (isUniqueViolation(err, 'users_email_lower_unique') && input.email !== null) return this.createUser(identity, { ...input, email: null });
      throw err;
    }
  }
}
