import type { MessageStore } from '../../db/stores/message-store.js';
import { usesRedis, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PresenceStore } from '../realtime/presence.js';
import { ClusterStats } from '../realtime/cluster-stats.js';
import { MessageDelivery } from '../realtime/message-delivery.js';
import { SocketReadNotifier } from '../realtime/read-notifier.js';
import { RoomEviction } from '../realtime/room-eviction.js';
import { SocketSessions } from '../realtime/sessions.js';
import { SystemBroadcaster } from '../realtime/system-broadcast.js';
import type { Sockets } from './sockets.js';

/** server/realtime's implementations of the ports the domain declares. */
export interface SocketPorts {
  /** auth's SessionEnder. */
  sessions: SocketSessions;
  /** The BatchPublisher of the writer (sends) and of MessageService (edits, deletions); the chat namespace also feeds it joins and other nodes' batches. */
  delivery: MessageDelivery;
  /** rooms' MemberPublisher (issue 14): the same delivery, so membership changes keep the room's change order. */
  members: MessageDelivery;
  /** admin's RoomEvictor, Broadcaster and StatsSource. */
  eviction: RoomEviction;
  broadcaster: SystemBroadcaster;
  stats: ClusterStats;
  /** The server API's PresenceReader: the cluster's presence store. */
  presence: PresenceStore;
  /** rooms' ReadNotifier (read:updated, throttled read:receipt). */
  readNotifier: SocketReadNotifier;
}

/** Step 3: what the domain will tell the sockets through. */
export function socketPorts({ chat, admin, nodes }: Sockets, messages: MessageStore, config: Config, logger: Logger, metrics: Metrics): SocketPorts {
  const delivery = new MessageDelivery(chat, messages, logger, nodes.clustered, metrics);
  return {
    sessions: new SocketSessions([chat, admin]),
    delivery,
    members: delivery,
    eviction: new RoomEviction(chat, nodes.presence, logger),
    broadcaster: new SystemBroadcaster(chat),
    stats: new ClusterStats(chat, admin, config.nodeId, usesRedis(config), logger),
    presence: nodes.presence,
    readNotifier: new SocketReadNotifier(chat),
  };
}
