import type { Knex } from '../../db/database.js';
import { AuditStore } from '../../db/stores/audit-store.js';
import { ExternalIdentityStore } from '../../db/stores/external-identity-store.js';
import { KickStore } from '../../db/stores/kick-store.js';
import { MessageStore } from '../../db/stores/message-store.js';
import { MuteStore } from '../../db/stores/mute-store.js';
import { RoomStore } from '../../db/stores/room-store.js';
import { TokenStore } from '../../db/stores/token-store.js';
import { UserStore } from '../../db/stores/user-store.js';

export interface Stores {
  users: UserStore;
  tokens: TokenStore;
  rooms: RoomStore;
  messages: MessageStore;
  mutes: MuteStore;
  kicks: KickStore;
  audit: AuditStore;
  externalIdentities: ExternalIdentityStore;
}

/** Step 1: the stores, the only code that speaks SQL, on one connection pool. */
export function openStores(knex: Knex): Stores {
  return {
    users: new UserStore(knex),
    tokens: new TokenStore(knex),
    rooms: new RoomStore(knex),
    messages: new MessageStore(knex),
    mutes: new MuteStore(knex),
    kicks: new KickStore(knex),
    audit: new AuditStore(knex),
    externalIdentities: new ExternalIdentityStore(knex),
  };
}
