import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { buildDomain } from './composition/domain.js';
import { buildHttp } from './composition/http.js';
import { attachRealtime } from './composition/realtime.js';
import { shutdown } from './composition/shutdown.js';
import { socketPorts } from './composition/socket-ports.js';
import { openSockets } from './composition/sockets.js';
import { openStores } from './composition/stores.js';
import type { Config } from './config.js';
import { createHttpServer } from './http/http-server.js';
import { webClient } from './http/web-client.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics/metrics.js';
import { createOriginPolicy } from './origins.js';
import type { RoomcastServer } from './realtime/types.js';
import type { RetentionSweeper } from './messages/retention.js';

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
  /** Retention (issue 19): sweeps on its interval; `sweep()` runs one now (or none, if another node holds the lock). */
  readonly retention: Pick<RetentionSweeper, 'sweep'>;
  /** Starts listening on config.host:config.port; resolves with the bound port. */
  listen(): Promise<number>;
  /** The base URL once listening (http://127.0.0.1:PORT for a wildcard host). */
  url(): string;
  /**
   * Graceful stop: refuse new handshakes, tell clients and give them
   * DRAIN_GRACE_MS to move, commit and acknowledge in-flight sends, close
   * every socket and the HTTP server, release the database.
   */
  close(): Promise<void>;
}

/**
 * Builds one Roomcast node from its configuration, in the order the layers
 * need each other (the steps are in server/composition/): stores, sockets,
 * the socket-side ports, the domain on both, the socket handlers and the
 * HTTP app on the domain. No module-level state, so tests run several per process.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<RoomcastApp> {
  const logger = options.logger ?? createLogger(config.logLevel, config.nodeId);
  // Bundled before anything opens, so a broken web client fails the start cleanly.
  const web = await webClient({ maxMessageLength: config.maxMessageLength });
  const database = options.database ?? openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  if (!options.skipMigrations) await migrateToLatest(database);
  const metrics = new Metrics(config.nodeId);
  const stores = openStores(database.knex, config.webhooks.subscriptionRefreshMs);

  // Express must be the server's request listener before Socket.IO attaches:
  // engine.io takes over the listeners present at attach time and passes on
  // only what is not under /socket.io/. A listener added later also answers
  // polling requests (404), which broke the polling transport.
  const httpServer = createHttpServer(config, (req, res) => http(req, res));
  const originAllowed = createOriginPolicy(config.corsOrigins);
  const sockets = await openSockets(httpServer, config, originAllowed, logger, metrics);
  const ports = socketPorts(sockets, stores.messages, config, logger, metrics);
  const domain = buildDomain(config, stores, ports, sockets.nodes.limiters, logger, metrics);
  let draining = false;
  const timers = attachRealtime(sockets, config, domain, ports, logger, metrics, () => draining);
  const http = buildHttp({
    config,
    stores,
    domain,
    readiness: [{ name: 'database', check: () => database.ping() }, ...sockets.nodes.readiness],
    isDraining: () => draining,
    originAllowed,
    web,
    logger,
    metrics,
  });

  let closing: Promise<void> | null = null;
  return {
    config,
    logger,
    httpServer,
    io: sockets.io,
    database,
    metrics,
    http,
    retention: domain.retention,
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
        domain.banExpiry.stop();
        await domain.retention.stop();
        ports.readNotifier.close();
        await domain.webhookDispatcher.stop();
        stores.webhookSubscriptions.stop();
        await shutdown({
          writer: domain.writer,
          timers,
          delivery: ports.delivery,
          sockets,
          passwordPool: domain.passwordPool,
          database: options.database ? null : database,
          graceMs: config.drainGraceMs,
          logger,
        });
        domain.beforePublish?.close();
      })()),
  };
}
