import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { AuditStore } from '../db/stores/audit-store.js';
import { MessageStore } from '../db/stores/message-store.js';
import { MuteStore } from '../db/stores/mute-store.js';
import { RoomStore } from '../db/stores/room-store.js';
import { TokenStore } from '../db/stores/token-store.js';
import { UserStore } from '../db/stores/user-store.js';
import { AdminService } from './admin/admin-service.js';
import { AccessTokens } from './auth/access-tokens.js';
import { AuthService } from './auth/auth-service.js';
import { PasswordPool } from './auth/password-pool.js';
import { Passwords } from './auth/passwords.js';
import { RefreshTokens } from './auth/refresh-tokens.js';
import { joinCluster, singleNode, type ClusterSetup } from './cluster/cluster.js';
import type { Config } from './config.js';
import { authenticate } from './http/authenticate.js';
import { createHttpApp } from './http/http-app.js';
import { openApiDocument } from './http/openapi.js';
import { authRoutes } from './http/routes/auth-routes.js';
import { adminRoutes } from './http/routes/admin-routes.js';
import { docsRoutes } from './http/routes/docs-routes.js';
import { healthRoutes } from './http/routes/health-routes.js';
import { roomAdminRoutes } from './http/routes/room-admin-routes.js';
import { roomRoutes } from './http/routes/room-routes.js';
import { webClient } from './http/web-client.js';
import { createLogger, type Logger } from './logger.js';
import { MessageDelivery } from './messages/message-delivery.js';
import { MessageService } from './messages/message-service.js';
import { MessageWriter } from './messages/message-writer.js';
import { metricsAccess } from './metrics/metrics-access.js';
import { Metrics } from './metrics/metrics.js';
import { createOriginPolicy } from './origins.js';
import { RateLimits } from './rate-limits.js';
import { registerAdminNamespace } from './realtime/admin-namespace.js';
import { registerChatNamespace } from './realtime/chat-namespace.js';
import { ClusterStats } from './realtime/cluster-stats.js';
import { authenticateHandshake } from './realtime/handshake.js';
import { RoomEviction } from './realtime/room-eviction.js';
import { SessionTimers } from './realtime/session-timer.js';
import { SocketSessions } from './realtime/sessions.js';
import { logSocketLifecycle } from './realtime/socket-logging.js';
import { createSocketServer } from './realtime/socket-server.js';
import { SystemBroadcaster } from './realtime/system-broadcast.js';
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
  /** This node's Prometheus registry and instruments. */
  readonly metrics: Metrics;
  /** The Express app (its router stack lists the REST routes). */
  readonly http: Express;
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

/** The API version in the OpenAPI document: the wire contract's. */
const APP_VERSION = '1.0.0';

/** How long a closing node waits for its connections to flush their last packets. */
const CLOSE_FLUSH_MS = 2_000;

/** Polls until `done()` holds or `ms` pass (never longer). */
async function flushed(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Builds one Roomcast node from its configuration: no module-level state, so tests run several per process. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<RoomcastApp> {
  const logger = options.logger ?? createLogger(config.logLevel, config.nodeId);
  // Bundled before anything opens, so a broken web client fails the start cleanly.
  const web = await webClient();
  const database = options.database ?? openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  if (!options.skipMigrations) await migrateToLatest(database);
  const { knex } = database;
  const metrics = new Metrics(config.nodeId);

  const stores = {
    users: new UserStore(knex),
    tokens: new TokenStore(knex),
    rooms: new RoomStore(knex),
    messages: new MessageStore(knex),
    mutes: new MuteStore(knex),
    audit: new AuditStore(knex),
  };

  // Express must be the server's request listener before Socket.IO attaches:
  // engine.io takes over the listeners present at attach time and passes on
  // only what is not under /socket.io/. A listener added later also answers
  // polling requests (404), which broke the polling transport.
  const httpServer = createServer((req, res) => http(req, res));
  const originAllowed = createOriginPolicy(config.corsOrigins);
  const io = createSocketServer(httpServer, config, originAllowed);
  // The adapter goes in before the namespaces exist, so each starts on it.
  const redisUrl = config.redisUrl;
  const cluster = redisUrl ? await joinCluster(io, { ...config, redisUrl }, logger, metrics) : null;
  const chat: ChatNamespace = io.of('/chat');
  const admin: AdminNamespace = io.of('/admin');
  const nodes: ClusterSetup = cluster ? cluster.attach(chat) : singleNode();
  metrics.watch(chat, admin);
  logSocketLifecycle(logger, chat, admin);

  const accessTokens = new AccessTokens(config.jwtSecret, config.accessTokenTtl);
  const limits = new RateLimits(config, nodes.limiters, metrics);
  const sessions = new SocketSessions([chat, admin]);
  const passwordPool = new PasswordPool({ onTask: (op, lane, outcome) => metrics.passwordTask(op, lane, outcome) });
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
  const messages = new MessageService(stores.messages, chat, stores.audit);
  const delivery = new MessageDelivery(chat, stores.messages, logger, nodes.clustered, metrics);
  const writer = new MessageWriter(stores.messages, (batch) => delivery.publish(batch), logger, metrics);
  const sessionTimers = new SessionTimers();
  const presence = nodes.presence;

  const handshakeDeps = { accessTokens, users: stores.users, tokens: stores.tokens, logger, metrics };
  chat.use(authenticateHandshake(handshakeDeps, false));
  admin.use(authenticateHandshake(handshakeDeps, true));
  registerChatNamespace(chat, {
    rooms,
    messages,
    writer,
    delivery,
    presence,
    limits,
    accessTokens,
    sessionTimers,
    maxMessageLength: config.maxMessageLength,
    logger,
    metrics,
  });

  const adminService = new AdminService({
    users: stores.users,
    tokens: stores.tokens,
    rooms: stores.rooms,
    mutes: stores.mutes,
    audit: stores.audit,
    messages,
    sessions,
    eviction: new RoomEviction(chat, presence, logger),
    broadcaster: new SystemBroadcaster(chat),
    stats: new ClusterStats(chat, admin, config.nodeId, Boolean(config.redisUrl), logger),
  });
  registerAdminNamespace(admin, { admin: adminService, sessionTimers, maxMessageLength: config.maxMessageLength, logger });

  let draining = false;
  const authenticated = authenticate({ accessTokens, users: stores.users });
  const http = createHttpApp({
    logger,
    originAllowed,
    maxBodyBytes: config.maxPacketBytes,
    operations: healthRoutes(
      [{ name: 'database', check: async () => void (await knex.raw('select 1')) }, ...nodes.readiness],
      metrics.registry,
      () => draining,
      metricsAccess(config.metricsToken),
    ),
    metrics,
    api: [
      { path: '', handlers: [authRoutes({ auth, users: stores.users, accessTokens, refreshTtlSeconds: config.refreshTokenTtl })] },
      { path: '', handlers: [docsRoutes(openApiDocument({ maxMessageLength: config.maxMessageLength, version: APP_VERSION }))] },
      { path: '/rooms', handlers: [authenticated, roomRoutes(rooms, metrics)] },
      { path: '/rooms', handlers: [roomAdminRoutes(adminService, authenticate({ accessTokens, users: stores.users }, 'admin'))] },
      { path: '/admin', handlers: [authenticate({ accessTokens, users: stores.users }, 'admin'), adminRoutes(adminService, config.maxMessageLength)] },
    ],
    web,
  });

  let closing: Promise<void> | null = null;
  const app: RoomcastApp = {
    config,
    logger,
    httpServer,
    io,
    database,
    metrics,
    http,
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
        // Close each connection ourselves first: engine.io's close() flushes what
        // a connection still has to send (the last acks), while io.close()
        // discards write buffers, which lost acks of committed messages. Closing
        // the transport (not a namespace disconnect) reads as "transport close"
        // to clients, so Socket.IO clients reconnect on their own (to another node).
        for (const nsp of [chat, admin]) for (const socket of nsp.sockets.values()) socket.conn.close();
        await flushed(() => io.engine.clientsCount === 0, CLOSE_FLUSH_MS);
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await nodes.close();
        await passwordPool.close();
        if (!options.database) await database.close();
      })()),
  };
  return app;
}
