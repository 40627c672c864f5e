import type { Server as HttpServer } from 'node:http';
import { joinCluster, redisTarget, singleNode, type ClusterSetup } from '../cluster/cluster.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { OriginPolicy } from '../origins.js';
import { logSocketLifecycle } from '../realtime/socket-logging.js';
import { createSocketServer } from '../realtime/socket-server.js';
import type { AdminNamespace, ChatNamespace, RoomcastServer } from '../realtime/types.js';

export interface Sockets {
  io: RoomcastServer;
  chat: ChatNamespace;
  admin: AdminNamespace;
  /** The cluster (Redis adapter, presence, limiters, readiness) or this node alone. */
  nodes: ClusterSetup;
}

/**
 * Step 2: the Socket.IO server on the HTTP server, on the Redis adapter when
 * REDIS_URL or REDIS_CLUSTER_NODES is set, and its two namespaces (no handlers yet: those need the
 * domain, which needs the ports built on these namespaces).
 */
export async function openSockets(
  httpServer: HttpServer,
  config: Config,
  originAllowed: OriginPolicy,
  logger: Logger,
  metrics: Metrics,
): Promise<Sockets> {
  const io = createSocketServer(httpServer, config, originAllowed);
  // The adapter goes in before the namespaces exist, so each starts on it.
  const target = redisTarget(config);
  const cluster = target ? await joinCluster(io, config, target, logger, metrics) : null;
  const chat: ChatNamespace = io.of('/chat');
  const admin: AdminNamespace = io.of('/admin');
  const nodes: ClusterSetup = cluster ? cluster.attach(chat) : singleNode();
  metrics.watch(chat, admin);
  logSocketLifecycle(logger, chat, admin);
  return { io, chat, admin, nodes };
}
