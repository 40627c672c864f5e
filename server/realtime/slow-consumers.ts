import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ChatNamespace, ChatSocket } from './types.js';

/** engine.io's connection under a Socket.IO socket. */
type EngineSocket = ChatSocket['conn'];

/** How often this node's sockets are measured: often enough to stop a flood early, rare enough to cost nothing per message. */
const CHECK_INTERVAL_MS = 250;
/**
 * How long a disconnected slow socket may keep its last bytes (the notice
 * included) queued for a reader that resumes, before its transport is cut.
 */
const CLOSE_GRACE_MS = 5_000;

/**
 * engine.io's private parts read here (its typings hide them): the packets
 * not yet handed to the transport, and the `ws` WebSocket under the
 * websocket transport, whose `bufferedAmount` counts the bytes its net socket
 * has not yet given to the kernel. Polling has no such socket: its backlog is
 * all in the write buffer.
 */
interface EngineInternals {
  writeBuffer: { data?: unknown }[];
  transport: { socket?: { bufferedAmount?: unknown; terminate?: () => void } };
}

const internals = (conn: EngineSocket) => conn as unknown as EngineInternals;

function packetBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * Bytes this node holds for a connection that its client has not read yet:
 * the unsent packets plus the websocket's unflushed bytes. The sum stops
 * once it passes `stopAt`, so measuring a huge backlog costs no more than
 * measuring the bound.
 */
export function bufferedBytes(conn: EngineSocket, stopAt = Number.POSITIVE_INFINITY): number {
  const { writeBuffer, transport } = internals(conn);
  const queued = transport.socket?.bufferedAmount;
  let total = typeof queued === 'number' ? queued : 0;
  for (const packet of writeBuffer) {
    if (total > stopAt) break;
    total += packetBytes(packet.data);
  }
  return total;
}

export interface SlowConsumerDeps {
  chat: ChatNamespace;
  /** The bound, in bytes (> 0: with 0 the guard is not started). */
  maxBufferBytes: number;
  logger: Logger;
  metrics?: Metrics;
  intervalMs?: number;
}

/**
 * Disconnects this node's /chat sockets whose clients stop reading: a socket
 * holding more than `maxBufferBytes` unread is cut loose, so its backlog
 * cannot grow the node's memory nor hold up anyone else. What it missed is
 * not lost: messages are stored, and the client catches up by seq when it
 * reconnects. The unsent backlog is dropped and `session:slow_consumer` is
 * sent in its place, best effort (a client that reads again finds it right
 * after the bytes already on their way), then the socket is disconnected;
 * the transport is cut after a short grace if the client still does not read.
 */
export class SlowConsumerGuard {
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: SlowConsumerDeps) {
    this.timer = setInterval(() => this.check(), deps.intervalMs ?? CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  /** One pass over this node's sockets. */
  check(): void {
    const limit = this.deps.maxBufferBytes;
    for (const socket of this.deps.chat.sockets.values()) {
      const bytes = bufferedBytes(socket.conn, limit);
      if (bytes > limit) this.cut(socket, bytes);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private cut(socket: ChatSocket, bytes: number): void {
    const { conn } = socket;
    const limitBytes = this.deps.maxBufferBytes;
    this.deps.metrics?.slowConsumer();
    this.deps.logger.warn('slow consumer disconnected', { socketId: socket.id, userId: socket.data.userId, bufferedBytes: bytes, limitBytes });
    // Nothing of this is needed: the client catches up by seq from the database.
    internals(conn).writeBuffer.length = 0;
    socket.emit('session:slow_consumer', { limitBytes });
    // Leaves every room at once (no more fan-out to it) and closes the
    // connection once the notice is flushed, which a paused client may never allow.
    socket.disconnect(true);
    const grace = setTimeout(() => {
      if (conn.readyState === 'closed') return;
      const ws = internals(conn).transport.socket;
      // terminate() frees the queued bytes now; close() would wait 30 s for the client's close frame.
      if (typeof ws?.terminate === 'function') ws.terminate();
      else conn.close(true);
    }, CLOSE_GRACE_MS);
    grace.unref();
    conn.once('close', () => clearTimeout(grace));
  }
}
