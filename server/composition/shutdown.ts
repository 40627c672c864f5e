import type { Database } from '../../db/database.js';
import type { PasswordPool } from '../auth/password-pool.js';
import type { Logger } from '../logger.js';
import type { MessageWriter } from '../messages/message-writer.js';
import { announceDraining, localSocketCount } from '../realtime/draining.js';
import type { MessageDelivery } from '../realtime/message-delivery.js';
import type { RealtimeTimers } from './realtime.js';
import type { Sockets } from './sockets.js';

/** How long a closing node waits for its connections to flush their last packets. */
const CLOSE_FLUSH_MS = 2_000;

/** Polls until `done()` holds or `ms` pass (never longer). */
async function flushed(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

export interface ShutdownParts {
  writer: MessageWriter;
  timers: RealtimeTimers;
  delivery: MessageDelivery;
  sockets: Sockets;
  passwordPool: PasswordPool;
  /** Null when the caller owns the database (it then closes it). */
  database: Database | null;
  /** How long clients get to move after `server:draining` (0: no announcement, close at once). */
  graceMs: number;
  logger: Logger;
}

/**
 * Step 7, the way back (new handshakes are refused already): tell the clients
 * and wait until they moved or the grace is over — sends keep being taken
 * meanwhile, so a client loses nothing while it switches — then commit and
 * acknowledge the sends already taken, close every socket, the cluster links,
 * the worker threads and the database.
 */
export async function shutdown({ writer, timers, delivery, sockets, passwordPool, database, graceMs, logger }: ShutdownParts): Promise<void> {
  const { io, chat, admin, nodes } = sockets;
  if (graceMs > 0) {
    const started = Date.now();
    announceDraining(chat, admin, graceMs);
    // Ends early once every client has moved: a rolling restart need not wait out the grace.
    await flushed(() => localSocketCount(chat, admin) === 0, graceMs);
    logger.info('drain grace over', { ms: Date.now() - started, socketsLeft: localSocketCount(chat, admin) });
  }
  await writer.drain();
  timers.sessionTimers.close();
  timers.presenceSweeper.close();
  timers.presenceAnnouncer.close();
  timers.slowConsumers?.close();
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
  await database?.close();
}
