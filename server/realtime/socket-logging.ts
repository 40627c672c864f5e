import type { Logger } from '../logger.js';
import type { AdminNamespace, AnySocket, ChatNamespace } from './types.js';

/**
 * One line when an authenticated socket connects and one when it goes, each
 * with socketId, userId and namespace (the disconnect line also says why and
 * after how long), so a socket's story can be read from the logs.
 */
export function logSocketLifecycle(logger: Logger, chat: ChatNamespace, admin: AdminNamespace): void {
  // winston formats (and JSON-encodes) an entry before its transports drop
  // it by level, so below 'info' (e.g. LOG_LEVEL=warn) nothing is made per
  // socket: no child logger, no line, no disconnect listener kept for the
  // socket's life (issue 18).
  chat.on('connection', (socket) => {
    if (logger.isInfoEnabled()) socket.on('disconnect', connected(logger, socket));
  });
  admin.on('connection', (socket) => {
    if (logger.isInfoEnabled()) socket.on('disconnect', connected(logger, socket));
  });
}

/** Logs the connection; returns the disconnect listener. */
function connected(logger: Logger, socket: AnySocket): (reason: string) => void {
  const connectedAt = Date.now();
  const log = logger.child({ socketId: socket.id, userId: socket.data.userId, namespace: socket.nsp.name });
  log.info('socket connected', { transport: socket.conn.transport.name });
  return (reason) => log.info('socket disconnected', { reason, durationMs: Date.now() - connectedAt });
}
