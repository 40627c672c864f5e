import { Emitter } from '@socket.io/redis-emitter';
import type { RevokeReason, SessionRevokedEvent } from '../protocol.js';
import { sessionChannel, userChannel } from '../realtime/channels.js';
import { adapterKey } from './redis.js';

/** The one Redis command the emitter uses: PUBLISH for one Redis, SPUBLISH for a Redis Cluster. */
export interface Publisher {
  publish(channel: string, message: string | Buffer): Promise<unknown>;
}

/** Message types of socket.io-adapter's ClusterAdapter, which the sharded Redis adapter speaks. */
const BROADCAST = 3;
const DISCONNECT_SOCKETS = 6;
/** socket.io-parser's EVENT packet type. */
const EVENT = 2;

/**
 * What `Emitter` does, for nodes on the sharded adapter (Redis Cluster): the
 * ClusterAdapter messages a node would publish, on the namespace channel
 * ("static" subscription mode), so the event and the disconnect arrive in order.
 */
function shardedNamespace(publish: Publisher['publish'], keyPrefix: string, nsp: string) {
  const channel = `${adapterKey(keyPrefix)}#${nsp}#`;
  const opts = (room: string) => ({ rooms: [room], except: [], flags: {} });
  return {
    emit(room: string, event: string, payload: unknown) {
      void publish(channel, JSON.stringify({ uid: 'emitter', nsp, type: BROADCAST, data: { opts: opts(room), packet: { type: EVENT, nsp, data: [event, payload] } } }));
    },
    disconnect(room: string) {
      void publish(channel, JSON.stringify({ uid: 'emitter', nsp, type: DISCONNECT_SOCKETS, data: { opts: opts(room), close: true } }));
    },
  };
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
  private readonly namespaces: { emit(room: string, event: 'session:revoked', payload: SessionRevokedEvent): void; disconnect(room: string): void }[];

  /** `sharded`: the nodes run on a Redis Cluster, and `redis.publish` is an SPUBLISH. */
  constructor(redis: Publisher, keyPrefix: string, sharded = false) {
    const tracked: Publisher = {
      publish: (channel, message) => {
        const published = redis.publish(channel, message);
        // Handled here so a failure before flush() is not an unhandled rejection; flush() still reports it.
        published.catch(() => {});
        this.pending.push(published);
        return published;
      },
    };
    if (sharded) {
      this.namespaces = ['/chat', '/admin'].map((nsp) => shardedNamespace(tracked.publish, keyPrefix, nsp));
      return;
    }
    const root = new Emitter<RevokeEvents>(tracked, { key: adapterKey(keyPrefix) });
    this.namespaces = [root.of('/chat'), root.of('/admin')].map((nsp) => ({
      emit: (room, event, payload) => nsp.to(room).emit(event, payload),
      disconnect: (room) => nsp.in(room).disconnectSockets(),
    }));
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
      nsp.emit(channel, 'session:revoked', { reason });
      nsp.disconnect(channel);
    }
  }
}
