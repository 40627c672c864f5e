import { AdminService } from '../admin/admin-service.js';
import { BanExpiry } from '../admin/ban-expiry.js';
import type { Broadcaster, RoomEvictor, StatsSource } from '../admin/admin-ports.js';
import { AccessTokens } from '../auth/access-tokens.js';
import { AuthService, type SessionEnder } from '../auth/auth-service.js';
import { PasswordPool } from '../auth/password-pool.js';
import { Passwords } from '../auth/passwords.js';
import { RefreshTokens } from '../auth/refresh-tokens.js';
import { TokenAuthentication } from '../auth/token-authentication.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { MessageService } from '../messages/message-service.js';
import { MessageWriter, type BatchPublisher } from '../messages/message-writer.js';
import type { Metrics } from '../metrics/metrics.js';
import { RateLimits, type LimiterFactory } from '../rate-limits.js';
import { RoomAccess } from '../rooms/room-access.js';
import { RoomService } from '../rooms/room-service.js';
import type { Stores } from './stores.js';

/** The ports the domain declares, as the domain sees them. */
export interface DomainPorts {
  sessions: SessionEnder;
  delivery: BatchPublisher;
  eviction: RoomEvictor;
  broadcaster: Broadcaster;
  stats: StatsSource;
}

export interface Domain {
  accessTokens: AccessTokens;
  /** The one token check of REST, both handshakes and auth:refresh. */
  authentication: TokenAuthentication;
  limits: RateLimits;
  auth: AuthService;
  rooms: RoomService;
  messages: MessageService;
  writer: MessageWriter;
  admin: AdminService;
  /** Lifts timed bans that have ended (running from here on; stopped at close). */
  banExpiry: BanExpiry;
  /** The bcrypt worker threads (closed at shutdown). */
  passwordPool: PasswordPool;
}

/** Step 4: the use cases and rules, on the stores and the ports. */
export function buildDomain(config: Config, stores: Stores, ports: DomainPorts, limiters: LimiterFactory, logger: Logger, metrics: Metrics): Domain {
  const accessTokens = new AccessTokens(config.jwtSecret, config.accessTokenTtl);
  const authentication = new TokenAuthentication({ accessTokens, users: stores.users, tokens: stores.tokens });
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
    passwords: new Passwords(passwordPool),
  });
  const rooms = new RoomService(stores.rooms, stores.messages, new RoomAccess(stores.kicks), limits);
  const messages = new MessageService(stores.messages, ports.delivery, stores.audit, limits);
  const writer = new MessageWriter(stores.messages, ports.delivery, logger, metrics);
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
    limits,
  });
  const banExpiry = new BanExpiry(stores.users, logger);
  banExpiry.start(config.banSweepSeconds * 1000);
  return { accessTokens, authentication, limits, auth, rooms, messages, writer, admin, banExpiry, passwordPool };
}
