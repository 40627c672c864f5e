import type { ExtendedError, Socket } from 'socket.io';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SocketData } from '../protocol.js';
import type { PresenceStore } from './presence.js';

/**
 * The refusal of a handshake over the cap. The message and `data.code` stay
 * within the contract's handshake codes: `unavailable` says "retry later"
 * (a place frees up when another of the user's sockets closes), which is what
 * clients already do with it; `data.reason` tells the two cases apart.
 */
function tooManySockets(): ExtendedError {
  const err = new Error('unavailable') as ExtendedError;
  err.data = { code: 'unavailable', reason: 'too_many_sockets' };
  return err;
}

export interface SocketCapDeps {
  presence: PresenceStore;
  /** Open sockets per user; 0 turns the cap off (do not register the middleware then). */
  max: number;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Socket.IO middleware, registered after the handshake's authentication (it
 * needs `socket.data.userId`): refuses a user's socket beyond `max` open ones.
 * The count lives in the presence store, so it is cluster-wide over Redis and
 * per node otherwise, and check-and-add is one step (parallel handshakes
 * cannot all pass).
 */
export function capSocketsPerUser(deps: SocketCapDeps) {
  return async (socket: Socket<never, never, never, SocketData>, next: (err?: ExtendedError) => void) => {
    const { userId } = socket.data;
    if (!(await deps.presence.openSocket(userId, socket.id, deps.max))) {
      deps.metrics?.refused('sockets');
      deps.logger.info('handshake refused: too many sockets', { socketId: socket.id, userId, max: deps.max });
      return next(tooManySockets());
    }
    const release = () => void deps.presence.closeSocket(userId, socket.id);
    socket.once('disconnect', release);
    // A client gone before its handshake finished never gets 'disconnect'; its connection does close.
    socket.conn.once('close', release);
    next();
  };
}
