import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { AuditStore } from '../db/stores/audit-store.js';
import { MessageStore } from '../db/stores/message-store.js';
import { MuteStore } from '../db/stores/mute-store.js';
import { RoomStore } from '../db/stores/room-store.js';
import { TokenStore } from '../db/stores/token-store.js';
import { UserStore } from '../db/stores/user-store.js';
import { AccessTokens } from './auth/access-tokens.js';
import { AuthService } from './auth/auth-service.js';
import { PasswordPool } from './auth/password-pool.js';
import { Passwords } from './auth/passwords.js';
import { RefreshTokens } from './auth/refresh-tokens.js';
import type { Config } from './config.js';
import { authenticate } from './http/authenticate.js';
import { createHttpApp } from './http/http-app.js';
import { authRoutes } from './http/routes/auth-routes.js';
import { healthRoutes } from './http/routes/health-routes.js';
import { roomRoutes } from './http/routes/room-routes.js';
import { createLogger, type Logger } from './logger.js';
import { MessageDelivery } from './messages/message-delivery.js';
import { MessageService } from './messages/message-service.js';
import { MessageWriter } from './messages/message-writer.js';
import { createOriginPolicy } from './origins.js';
import { RateLimits } from './rate-limits.js';
import { registerChatNamespace } from './realtime/chat-namespace.js';
import { authenticateHandshake } from './realtime/handshake.js';
import { MemoryPresenceStore } from './realtime/presence.js';
import { SessionTimers } from './realtime/session-timer.js';
import { SocketSessions } from './realtime/sessions.js';
import { createSocketServer } from './realtime/socket-server.js';
import type { AdminNamespace, ChatNamespace, RoomcastServer } from './realtime/types.js';
import { RoomService } from './rooms/room-service.js';

export interface AppOptions {
  logger?: Logger;
  /** A database to use instead of opening one; the app then does not close it. */
  database?: Database;
  /** Skip migrations (the caller ran them). */
  skipMigrations?: boolean;
}

export interface RoomcastApp {
  readonly config: Config;
  readonly logger: Logger;
  readonly httpServer: HttpServer;
  readonly io: RoomcastServer;
  readonly database: Database;
  /** Starts listening on config.host:config.port; resolves with the bound port. */
  listen(): Promise<number>;
  /** The base URL once listening (http://127.0.0.1:PORT for a wildcard host). */
  url(): string;
  /**
   * Graceful stop: refuse new work, commit and acknowledge in-flight sends,
   * close every socket and the HTTP server, release the database.
   */
  close(): Promise<void>;
}

/** Builds one Roomcast node from its configuration: no module-level state, so tests run several per process. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<RoomcastApp> {
  const logger = options.logger ?? createLogger(config.logLevel, config.nodeId);
  const database = options.database ?? openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  if (!options.skipMigrations) await migrateToLatest(database);
  const { knex } = database;

  const stores = {
    users: new UserStore(knex),
    tokens: new TokenStore(knex),
    rooms: new RoomStore(knex),
    messages: new MessageStore(knex),
    mutes: new MuteStore(knex),
    audit: new AuditStore(knex),
  };

  const httpServer = createServer();
  const originAllowed = createOriginPolicy(config.corsOrigins);
  const io = createSocketServer(httpServer, config, originAllowed);
  const chat: ChatNamespace = io.of('/chat');
  const admin: AdminNamespace = io.of('/admin');

  const accessTokens = new AccessTokens(config.jwtSecret, config.accessTokenTtl);
  const limits = new RateLimits(config);
  const sessions = new SocketSessions([chat, admin]);
  const passwordPool = new PasswordPool();
  const auth = new AuthService({
    config,
    users: stores.users,
    tokens: stores.tokens,
    accessTokens,
    refreshTokens: new RefreshTokens(stores.tokens, config.refreshTokenTtl),
    limits,
    sessions,
    passwords: new Passwords(passwordPool),
  });
  const rooms = new RoomService(stores.rooms, stores.messages);
  const messages = new MessageService(stores.messages, chat);
  const delivery = new MessageDelivery(chat, stores.messages, logger, false);
  const writer = new MessageWriter(stores.messages, (batch) => delivery.publish(batch), logger);
  const sessionTimers = new SessionTimers();

  const handshakeDeps = { accessTokens, users: stores.users, tokens: stores.tokens, logger };
  chat.use(authenticateHandshake(handshakeDeps, false));
  admin.use(authenticateHandshake(handshakeDeps, true));
  registerChatNamespace(chat, {
    rooms,
    messages,
    writer,
    delivery,
    presence: new MemoryPresenceStore(),
    limits,
    accessTokens,
    sessionTimers,
    maxMessageLength: config.maxMessageLength,
    logger,
  });

  const metrics = new Registry();
  metrics.setDefaultLabels({ node: config.nodeId });
  collectDefaultMetrics({ register: metrics });

  let draining = false;
  const authenticated = authenticate({ accessTokens, users: stores.users });
  const http = createHttpApp({
    logger,
    originAllowed,
    maxBodyBytes: config.maxPacketBytes,
    operations: healthRoutes(
      [{ name: 'database', check: async () => void (await knex.raw('select 1')) }],
      metrics,
      () => draining,
    ),
    api: [
      { path: '', handlers: [authRoutes({ auth, users: stores.users, accessTokens, refreshTtlSeconds: config.refreshTokenTtl })] },
      { path: '/rooms', handlers: [authenticated, roomRoutes(rooms)] },
    ],
  });
  httpServer.on('request', http);

  let closing: Promise<void> | null = null;
  const app: RoomcastApp = {
    config,
    logger,
    httpServer,
    io,
    database,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      }),
    url: () => {
      const { port } = httpServer.address() as AddressInfo;
      return `http://127.0.0.1:${port}`;
    },
    close: () =>
      (closing ??= (async () => {
        draining = true;
        await writer.drain();
        sessionTimers.close();
        delivery.close();
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await passwordPool.close();
        if (!options.database) await database.close();
      })()),
  };
  return app;
}
