import type { SocketData } from '../protocol.js';

/** What the timer needs of a /chat or /admin socket. */
interface ExpiringSocket {
  id: string;
  data: SocketData;
  connected: boolean;
  on(event: 'disconnect', listener: (this: ExpiringSocket) => void): unknown;
  emit(event: 'session:expired', payload: Record<never, never>): unknown;
  disconnect(): unknown;
}

// setTimeout cannot wait longer than ~24.8 days; re-arm past that.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Ends each socket when its access token expires, with `session:expired`
 * first, unless `auth:refresh` moved the expiry on (then `arm` again).
 */
export class SessionTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Shared by every socket (issue 18: no closures per socket); Socket.IO calls it with the socket as `this`. */
  private readonly onDisconnect = (() => {
    const timers = this;
    return function (this: ExpiringSocket) {
      timers.clear(this.id);
    };
  })();
  private readonly expire = (socket: ExpiringSocket) => {
    this.timers.delete(socket.id);
    if (!socket.connected) return;
    if (Date.now() < socket.data.tokenExpiresAt) return this.arm(socket);
    socket.emit('session:expired', {});
    socket.disconnect();
  };

  arm(socket: ExpiringSocket): void {
    const previous = this.timers.get(socket.id);
    if (previous) clearTimeout(previous);
    // 'disconnect' comes once per socket, so `on` (without once's wrapper) is enough.
    else socket.on('disconnect', this.onDisconnect);
    const wait = Math.min(Math.max(0, socket.data.tokenExpiresAt - Date.now()), MAX_TIMER_MS);
    const timer = setTimeout(this.expire, wait, socket);
    timer.unref();
    this.timers.set(socket.id, timer);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private clear(socketId: string): void {
    clearTimeout(this.timers.get(socketId));
    this.timers.delete(socketId);
  }
}
