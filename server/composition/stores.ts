import type { Knex } from '../../db/database.js';
import { ApiKeyStore } from '../../db/stores/api-key-store.js';
import { AuditStore } from '../../db/stores/audit-store.js';
import { ExternalIdentityStore } from '../../db/stores/external-identity-store.js';
import { KickStore } from '../../db/stores/kick-store.js';
import { MembershipStore } from '../../db/stores/membership-store.js';
import { MessageStore } from '../../db/stores/message-store.js';
import { MuteStore } from '../../db/stores/mute-store.js';
import { ReactionStore } from '../../db/stores/reaction-store.js';
import { ReadStore } from '../../db/stores/read-store.js';
import { RetentionStore } from '../../db/stores/retention-store.js';
import { RoomStore } from '../../db/stores/room-store.js';
import { TokenStore } from '../../db/stores/token-store.js';
import { UserStore } from '../../db/stores/user-store.js';
import { WebhookStore } from '../../db/stores/webhook-store.js';
import { WebhookSubscriptions } from '../../db/stores/webhook-subscriptions.js';

export interface Stores {
  users: UserStore;
  tokens: TokenStore;
  rooms: RoomStore;
  messages: MessageStore;
  mutes: MuteStore;
  kicks: KickStore;
  /** Members of rooms and direct rooms (issue 14). */
  memberships: MembershipStore;
  audit: AuditStore;
  apiKeys: ApiKeyStore;
  reads: ReadStore;
  reactions: ReactionStore;
  /** Retention's batches and its cluster-wide lock (issue 19). */
  retention: RetentionStore;
  webhooks: WebhookStore;
  /** Which event types endpoints want: the outbox gate of the other stores (started by the domain step). */
  webhookSubscriptions: WebhookSubscriptions;
  externalIdentities: ExternalIdentityStore;
}

/** Step 1: the stores, the only code that speaks SQL, on one connection pool. */
export function openStores(knex: Knex, webhookRefreshMs = 1_000): Stores {
  const webhooks = new WebhookStore(knex);
  const webhookSubscriptions = new WebhookSubscriptions(webhooks, webhookRefreshMs);
  return {
    users: new UserStore(knex, webhookSubscriptions),
    tokens: new TokenStore(knex),
    rooms: new RoomStore(knex, webhookSubscriptions),
    messages: new MessageStore(knex, webhookSubscriptions),
    mutes: new MuteStore(knex),
    kicks: new KickStore(knex, webhookSubscriptions),
    memberships: new MembershipStore(knex, webhookSubscriptions),
    audit: new AuditStore(knex),
    apiKeys: new ApiKeyStore(knex),
    reads: new ReadStore(knex),
    reactions: new ReactionStore(knex, webhookSubscriptions),
    retention: new RetentionStore(knex),
    webhooks,
    webhookSubscriptions,
    externalIdentities: new ExternalIdentityStore(knex),
  };
}
