import { AdminService } from '../admin/admin-service.js';
import { ApiKeys } from '../admin/api-keys.js';
import { ServerApi, type PresenceReader } from '../admin/server-api.js';
import { BanExpiry } from '../admin/ban-expiry.js';
import { RetentionSweeper } from '../messages/retention.js';
import type { Broadcaster, RoomEvictor, StatsSource } from '../admin/admin-ports.js';
import { AccessTokens } from '../auth/access-tokens.js';
import { AuthService, type SessionEnder } from '../auth/auth-service.js';
import { ExternalTokens } from '../auth/external-tokens.js';
import { ExternalUsers } from '../auth/external-users.js';
import { PasswordPool } from '../auth/password-pool.js';
import { Passwords } from '../auth/passwords.js';
import { RefreshTokens } from '../auth/refresh-tokens.js';
import { TokenAuthentication } from '../auth/token-authentication.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { MessageService } from '../messages/message-service.js';
import { BeforePublishGate } from '../messages/before-publish.js';
import { MessageWriter, type BatchPublisher, type MessageSubmitter } from '../messages/message-writer.js';
import { ReactionService } from '../messages/reaction-service.js';
import type { Metrics } from '../metrics/metrics.js';
import { RateLimits, type LimiterFactory } from '../rate-limits.js';
import { ReadStateService, type ReadNotifier } from '../rooms/read-state.js';
import { RoomAccess } from '../rooms/room-access.js';
import { RoomService } from '../rooms/room-service.js';
import { BeforePublishClient } from '../webhooks/before-publish-client.js';
import { MembershipService } from '../rooms/membership-service.js';
import type { MemberPublisher } from '../rooms/membership-ports.js';
import { banInForce } from '../auth/ban.js';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.js';
import { WebhookService } from '../webhooks/webhook-service.js';
import type { Stores } from './stores.js';

/** The ports the domain declares, as the domain sees them. */
export interface DomainPorts {
  sessions: SessionEnder;
  delivery: BatchPublisher;
  eviction: RoomEvictor;
  broadcaster: Broadcaster;
  stats: StatsSource;
  /** Who is online per room, for the server API. */
  presence: PresenceReader;
  readNotifier: ReadNotifier;
  /** Membership changes to the rooms' sockets in change order (MessageDelivery, issue 14). */
  members: MemberPublisher;
}

export interface Domain {
  accessTokens: AccessTokens;
  /** The one token check of REST, both handshakes and auth:refresh. */
  authentication: TokenAuthentication;
  limits: RateLimits;
  auth: AuthService;
  rooms: RoomService;
  /** Members of rooms and direct rooms (issue 14). */
  memberships: MembershipService;
  /** Read state: room:read, PUT /api/rooms/:id/read, GET /api/rooms/:id/reads. */
  reads: ReadStateService;
  messages: MessageService;
  /** message:react / message:unreact. */
  reactions: ReactionService;
  writer: MessageWriter;
  /** Where sends go (socket and server API): the writer, or the before-publish hook in front of it. */
  sends: MessageSubmitter;
  /** The before-publish hook's HTTP client (its connections are closed at shutdown); null: no hook. */
  beforePublish: BeforePublishClient | null;
  admin: AdminService;
  /** Server API keys: made by admins, checked on every /api/server/ call. */
  apiKeys: ApiKeys;
  /** The server API's use cases (the app's backend, with a key). */
  serverApi: ServerApi;
  /** Lifts timed bans that have ended (running from here on; stopped at close). */
  banExpiry: BanExpiry;
  /** Deletes messages and audit entries past their retention, one node at a time (running from here on; stopped at close). */
  retention: RetentionSweeper;
  /** The bcrypt worker threads (closed at shutdown). */
  passwordPool: PasswordPool;
  webhooks: WebhookService;
  /** Sends the outbox's deliveries (running from here on unless WEBHOOK_DISPATCH=off; stopped at close). */
  webhookDispatcher: WebhookDispatcher;
}

/** Step 4: the use cases and rules, on the stores and the ports. */
export function buildDomain(config: Config, stores: Stores, ports: DomainPorts, limiters: LimiterFactory, logger: Logger, metrics: Metrics): Domain {
  const accessTokens = new AccessTokens(config.accessTokenKeys, config.accessTokenTtl);
  const external = config.externalIdentity
    ? {
        tokens: new ExternalTokens(config.externalIdentity, (err) => logger.warn('identity provider JWKS fetch failed; known keys keep verifying', { err })),
        users: new ExternalUsers({ identities: stores.externalIdentities, users: stores.users }),
      }
    : null;
  const authentication = new TokenAuthentication({ accessTokens, users: stores.users, external });
  const limits = new RateLimits(config, limiters, metrics);
  const passwordPool = new PasswordPool({ onTask: (op, lane, outcome) => metrics.passwordTask(op, lane, outcome) });
  const auth = new AuthService({
    config,
    users: stores.users,
    tokens: stores.tokens,
    accessTokens,
    refreshTokens: new RefreshTokens(stores.tokens, config.refreshTokenTtl),
    limits,
    sessions: ports.sessions,
    passwords: new Passwords(passwordPool, config.bcryptCost),
  });
  const rooms = new RoomService(stores.rooms, stores.messages, new RoomAccess(stores.kicks), limits, ports.members);
  const memberships = new MembershipService({
    store: stores.memberships,
    rooms,
    users: stores.users,
    banInForce,
    publisher: ports.members,
    eviction: ports.eviction,
    online: ports.presence,
    audit: stores.audit,
    limits,
  });
  const writer = new MessageWriter(stores.messages, ports.delivery, logger, metrics);
  // No hook configured: sends reach the writer directly and edits their transaction, nothing added to either path.
  const hook = config.beforePublish;
  const beforePublish = hook ? new BeforePublishClient(hook) : null;
  const gate = hook && beforePublish ? new BeforePublishGate(writer, beforePublish, { failMode: hook.failMode, maxMessageLength: config.maxMessageLength }, logger, metrics) : null;
  const sends: MessageSubmitter = gate ?? writer;
  const messages = new MessageService(stores.messages, ports.delivery, stores.audit, limits, gate);
  const reactions = new ReactionService(stores.reactions, ports.delivery, limits, config.maxReactionEmojis);
  const reads = new ReadStateService(rooms, stores.reads, ports.readNotifier, limits);
  const admin = new AdminService({
    users: stores.users,
    tokens: stores.tokens,
    rooms: stores.rooms,
    mutes: stores.mutes,
    kicks: stores.kicks,
    audit: stores.audit,
    messages,
    sessions: ports.sessions,
    eviction: ports.eviction,
    broadcaster: ports.broadcaster,
    stats: ports.stats,
    kickBlockSeconds: config.kickBlockSeconds,
    memberships,
    limits,
  });
  const apiKeys = new ApiKeys({ keys: stores.apiKeys, audit: stores.audit, limits });
  const serverApi = new ServerApi({ admin, rooms, writer: sends, users: stores.users, audit: stores.audit, presence: ports.presence });
  const banExpiry = new BanExpiry(stores.users, logger);
  banExpiry.start(config.banSweepSeconds * 1000);
  const retention = new RetentionSweeper(stores.retention, config.retention, logger);
  retention.start(config.retention.intervalSeconds * 1000);
  const subscriptions = stores.webhookSubscriptions;
  subscriptions.start();
  const webhooks = new WebhookService({
    store: stores.webhooks,
    audit: stores.audit,
    limits,
    subscriptionsChanged: () => subscriptions.refresh(),
    subscriptionMaxAgeMs: subscriptions.maxAgeMs,
    allowPrivateNetworks: config.webhooks.allowPrivateNetworks,
  });
  const webhookDispatcher = new WebhookDispatcher({ store: stores.webhooks, anyEndpoint: () => subscriptions.any(), config: config.webhooks, logger, metrics });
  if (config.webhooks.dispatch) webhookDispatcher.start();
  metrics.watchWebhookLag(() => stores.webhooks.oldestPendingAgeSeconds());
  return { accessTokens, authentication, limits, auth, rooms, memberships, reads, messages, reactions, writer, sends, beforePublish, admin, apiKeys, serverApi, banExpiry, retention, passwordPool, webhooks, webhookDispatcher };
}
