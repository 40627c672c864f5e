import { TypingLimiter } from './typing-limiter.js';

export interface TypingOptions {
  /** Events passed on per room per window; 0: no limit. */
  rateLimit: number;
  rateWindowMs: number;
  /** A `typing: true` not renewed within this time is ended with `typing: false`. */
  timeoutMs: number;
}

/** Tells the room (everyone but this socket, on every node) that the socket's user started or stopped typing. */
export type TypingAnnouncer = (roomId: string, typing: boolean) => void;

/**
 * One socket's typing: which rooms it is typing in (one timer each, so at
 * most as many as the rooms it has joined), the rate limit, and the
 * guarantee that every `typing: true` passed on is followed by exactly one
 * `typing: false` — sent by the client, by the timeout, or when the socket
 * leaves the room or disconnects. The node holding the socket sends it, so
 * other nodes need no state of their own.
 */
export class SocketTyping {
  private readonly typing = new Map<string, NodeJS.Timeout>();
  private readonly limiter: TypingLimiter;

  constructor(
    private readonly options: TypingOptions,
    private readonly announce: TypingAnnouncer,
  ) {
    this.limiter = new TypingLimiter(options.rateLimit, options.rateWindowMs);
  }

  /**
   * A `typing` event of the socket; true when it was passed on. A `false`
   * while not typing changes nothing and is not passed on (so it cannot
   * flood either). A `true` over the rate limit is dropped, but still renews
   * the timeout when the room was told already: the user is still typing.
   */
  relay(roomId: string, typing: boolean): boolean {
    if (!typing) return this.stop(roomId);
    const allowed = this.limiter.allow(roomId);
    if (allowed || this.typing.has(roomId)) this.arm(roomId);
    if (allowed) this.announce(roomId, true);
    return allowed;
  }

  /** The socket left the room (or is going): ends its typing there, if any. */
  left(roomId: string): void {
    this.stop(roomId);
    this.limiter.forget(roomId);
  }

  /** The socket is disconnecting: ends its typing in every room. */
  disconnected(): void {
    for (const roomId of [...this.typing.keys()]) this.left(roomId);
  }

  private stop(roomId: string): boolean {
    const timer = this.typing.get(roomId);
    if (!timer) return false;
    clearTimeout(timer);
    this.typing.delete(roomId);
    this.announce(roomId, false);
    return true;
  }

  private arm(roomId: string): void {
    clearTimeout(this.typing.get(roomId));
    const timer = setTimeout(() => this.stop(roomId), this.options.timeoutMs);
    timer.unref();
    this.typing.set(roomId, timer);
  }
}
