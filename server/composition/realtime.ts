import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { registerAdminNamespace } from '../realtime/admin-namespace.js';
import { registerChatNamespace } from '../realtime/chat-namespace.js';
import { refuseWhileDraining } from '../realtime/draining.js';
import { authenticateHandshake } from '../realtime/handshake.js';
import { PresenceAnnouncer } from '../realtime/presence-announcer.js';
import { PresenceSweeper } from '../realtime/presence-sweeper.js';
import { SessionTimers } from '../realtime/session-timer.js';
import { SlowConsumerGuard } from '../realtime/slow-consumers.js';
import { capSocketsPerUser } from '../realtime/socket-cap.js';
import type { Domain } from './domain.js';
import type { SocketPorts } from './socket-ports.js';
import type { Sockets } from './sockets.js';

/** The timers realtime runs on its own; stopped at shutdown. */
export interface RealtimeTimers {
  sessionTimers: SessionTimers;
  presenceSweeper: PresenceSweeper;
  presenceAnnouncer: PresenceAnnouncer;
  /** Null when MAX_SOCKET_BUFFER_BYTES is 0. */
  slowConsumers: SlowConsumerGuard | null;
}

/** Step 5: the handshakes (refused while `isDraining()`) and the event handlers of /chat and /admin. */
export function attachRealtime(
  { chat, admin, nodes }: Sockets,
  config: Config,
  domain: Domain,
  { delivery }: SocketPorts,
  logger: Logger,
  metrics: Metrics,
  isDraining: () => boolean,
): RealtimeTimers {
  const sessionTimers = new SessionTimers();

  // First, so a draining node spends nothing on a handshake it refuses.
  const draining = refuseWhileDraining(isDraining);
  chat.use(draining);
  admin.use(draining);

  const handshakeDeps = { authentication: domain.authentication, logger, metrics };
  chat.use(authenticateHandshake(handshakeDeps, 'user'));
  if (config.maxSocketsPerUser > 0) chat.use(capSocketsPerUser({ presence: nodes.presence, max: config.maxSocketsPerUser, logger, metrics }));
  const presenceSweeper = new PresenceSweeper(chat, nodes.presence, logger);
  admin.use(authenticateHandshake(handshakeDeps, 'admin'));
  const presenceAnnouncer = new PresenceAnnouncer(chat, { threshold: config.presenceBatchThreshold, intervalMs: config.presenceBatchIntervalMs });

  registerChatNamespace(chat, {
    rooms: domain.rooms,
    reads: domain.reads,
    messages: domain.messages,
    reactions: domain.reactions,
    writer: domain.sends,
    delivery,
    presence: nodes.presence,
    limits: domain.limits,
    authentication: domain.authentication,
    sessionTimers,
    maxMessageLength: config.maxMessageLength,
    maxRoomsPerSocket: config.maxRoomsPerSocket,
    typing: { rateLimit: config.typingRateLimit, rateWindowMs: config.typingRateWindow * 1000, timeoutMs: config.typingTimeout * 1000 },
    joinOnlineListLimit: config.joinOnlineListLimit,
    announcer: presenceAnnouncer,
    logger,
    metrics,
  });
  registerAdminNamespace(admin, { admin: domain.admin, sessionTimers, maxMessageLength: config.maxMessageLength, logger });
  const slowConsumers = config.maxSocketBufferBytes > 0 ? new SlowConsumerGuard({ chat, maxBufferBytes: config.maxSocketBufferBytes, logger, metrics }) : null;
  return { sessionTimers, presenceSweeper, presenceAnnouncer, slowConsumers };
}
