import { Emitter } from '@socket.io/redis-emitter';
import type { RevokeReason, SessionRevokedEvent } from '../protocol.js';
import { sessionChannel, userChannel } from '../realtime/channels.js';
import { adapterKey } from './redis.js';

/** The one Redis command the emitter uses. */
export interface Publisher {
  publish(channel: string, message: string | Buffer): Promise<unknown>;
}

type RevokeEvents = { 'session:revoked': (event: SessionRevokedEvent) => void };

/**
 * Ends sockets of a running cluster from a process outside it (the admin
 * CLI): it publishes on the nodes' adapter channels what SocketSessions does
 * inside a node (`session:revoked`, then a disconnect, to the user's or the
 * login's Socket.IO room in /chat and /admin), so every node acts at once.
 * The emitter publishes and forgets; `flush()` waits until Redis took it all.
 */
// Shaped as auth's SessionEnder port (structurally: cluster code does not import the domain).
export class EmittedSessions {
  private readonly pending: Promise<unknown>[] = [];
  private readonly namespaces: Emitter<RevokeEvents>[];

  constructor(redis: Publisher, keyPrefix: string) {
    const tracked: Publisher = {
      publish: (channel, message) => {
        const published = redis.publish(channel, message);
        // Handled here so a failure before flush() is not an unhandled rejection; flush() still reports it.
        published.catch(() => {});
        this.pending.push(published);
        return published;
      },
    };
    const root = new Emitter<RevokeEvents>(tracked, { key: adapterKey(keyPrefix) });
    this.namespaces = [root.of('/chat'), root.of('/admin')];
  }

  endUserSessions(userId: string, reason: RevokeReason): void {
    this.end(userChannel(userId), reason);
  }

  endLoginSession(sessionId: string, reason: RevokeReason): void {
    this.end(sessionChannel(sessionId), reason);
  }

  /** Resolves once Redis has accepted every publish so far; rejects with the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }

  private end(channel: string, reason: RevokeReason): void {
    for (const nsp of this.namespaces) {
      nsp.to(channel).emit('session:revoked', { reason });
      nsp.in(channel).disconnectSockets();
    }
  }
}
