import type { ExtendedError, Socket } from 'socket.io';
import type { AdminNamespace, ChatNamespace } from './types.js';

/**
 * Socket.IO middleware, registered first on both namespaces: while the node
 * drains, a handshake is refused with the contract's retryable `unavailable`
 * before any token or database work, so the client tries again — through its
 * balancer, which has seen /readyz answer 503, to another node.
 * `data.reason` tells it apart from a database outage.
 */
export function refuseWhileDraining(isDraining: () => boolean) {
  return (_socket: Socket, next: (err?: ExtendedError) => void) => {
    if (!isDraining()) return next();
    const err = new Error('unavailable') as ExtendedError;
    err.data = { code: 'unavailable', reason: 'draining' };
    next(err);
  };
}

/**
 * Tells this node's own sockets (not the cluster's: `local`) that it is going
 * and closes them within `closeInMs`, so clients can open their next
 * connection before this one ends.
 */
export function announceDraining(chat: ChatNamespace, admin: AdminNamespace, closeInMs: number): void {
  chat.local.emit('server:draining', { closeInMs });
  admin.local.emit('server:draining', { closeInMs });
}

/** Sockets still open on this node, both namespaces. */
export function localSocketCount(chat: ChatNamespace, admin: AdminNamespace): number {
  return chat.sockets.size + admin.sockets.size;
}
