import { randomBytes } from 'node:crypto';
import { UsernameTakenError, type ExternalIdentityStore } from '../../db/stores/external-identity-store.js';
import type { UserRecord, UserStore } from '../../db/stores/user-store.js';
import type { ExternalClaims } from './external-tokens.js';

/** Numbered names tried after the claimed one, before a random suffix. */
const NUMBERED_TRIES = 4;

/**
 * Maps a verified external token to its Roomcast user: the one linked to
 * (issuer, sub), or a new one created on first use under the claimed
 * username — `name-2` … `name-5`, then `name-<random>` when taken. When a
 * role claim is configured the user's role follows it on every token.
 */
export class ExternalUsers {
  constructor(
    private readonly deps: {
      identities: Pick<ExternalIdentityStore, 'findUser' | 'createUser'>;
      users: Pick<UserStore, 'update'>;
    },
  ) {}

  async resolve(claims: ExternalClaims): Promise<UserRecord> {
    const identity = { issuer: claims.issuer, subject: claims.subject };
    const user = (await this.deps.identities.findUser(identity)) ?? (await this.create(claims));
    if (claims.role && claims.role !== user.role) return (await this.deps.users.update(user.id, { role: claims.role })) ?? user;
    return user;
  }

  private async create(claims: ExternalClaims): Promise<UserRecord> {
    const identity = { issuer: claims.issuer, subject: claims.subject };
    for (const username of candidates(claims.username)) {
      try {
        return await this.deps.identities.createUser(identity, { username, email: claims.email, role: claims.role });
      } catch (err) {
        if (!(err instanceof UsernameTakenError)) throw err;
      }
    }
    throw new Error('no free username for an external identity');
  }
}

function* candidates(base: string): Generator<string> {
  yield base;
  for (let n = 2; n < 2 + NUMBERED_TRIES; n++) yield `${base.slice(0, 29)}-${n}`;
  for (let i = 0; i < 3; i++) yield `${base.slice(0, 23)}-${randomBytes(4).toString('hex')}`;
}
