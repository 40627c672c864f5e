import type { SessionEnder } from '../auth/auth-service.js';
import type { RevokeReason } from '../protocol.js';
import { sessionChannel, userChannel } from './channels.js';
import type { AdminNamespace, ChatNamespace } from './types.js';

/**
 * Ends sockets by user or by login session, on every node: the target is a
 * Socket.IO room, so the adapter carries it across the cluster. Each socket
 * gets `session:revoked` just before it is disconnected.
 */
export class SocketSessions implements SessionEnder {
  constructor(private readonly namespaces: readonly (ChatNamespace | AdminNamespace)[]) {}

  endUserSessions(userId: string, reason: RevokeReason): void {
    this.end(userChannel(userId), reason);
  }

  endLoginSession(sessionId: string, reason: RevokeReason): void {
    this.end(sessionChannel(sessionId), reason);
  }

  private end(channel: string, reason: RevokeReason): void {
    for (const nsp of this.namespaces) {
      nsp.to(channel).emit('session:revoked', { reason });
      nsp.in(channel).disconnectSockets();
    }
  }
}
