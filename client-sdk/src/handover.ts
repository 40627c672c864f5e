import type { Socket } from 'socket.io-client';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { ChatClientToServerEvents, ChatServerToClientEvents } from './protocol.js';

type ChatSocket = Socket<ChatServerToClientEvents, ChatClientToServerEvents>;

/** Connection attempts one handover makes before it leaves the client to reconnect after the close. */
const MAX_ATTEMPTS = 20;
/**
 * The part of the node's `closeInMs` over which its clients start their
 * handover at random, so they do not all arrive at the next node at once
 * (and most of the grace is left for refused attempts to try again).
 */
const SPREAD_SHARE = 1 / 3;

export interface HandoverDeps {
  /** A new socket (fresh token, current endpoint), not connected yet; rejects when no token can be had. */
  open(): Promise<ChatSocket>;
  /** Moves to the next endpoint: a URL list's next node; for one URL (a balancer), the same one again. */
  next(): void;
  /** Whether `from` is still the connection's connected socket (the handover is moot otherwise). */
  isCurrent(from: ChatSocket): boolean;
  /** The new socket is connected: it becomes the connection's, `from` is retired. */
  promote(socket: ChatSocket, from: ChatSocket): void;
  backoff: Required<BackoffOptions>;
}

/**
 * Make-before-break when the server announces `server:draining`: a second
 * socket is opened (a draining node refuses it with `unavailable` until the
 * balancer sends it elsewhere; each refusal waits a backoff delay) while the
 * old one keeps carrying events and acks; once the new one is connected it is
 * promoted. If the old socket drops first, the caller cancels and the usual
 * reconnect takes over, so the handover only ever saves a reconnect.
 */
export class Handover {
  #from: ChatSocket | null = null;
  #standby: ChatSocket | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;

  constructor(private readonly deps: HandoverDeps) {}

  /** `from`'s node closes it within `closeInMs`: start moving (ignored while a handover runs). */
  start(from: ChatSocket, closeInMs: number): void {
    if (this.#from) return;
    this.#from = from;
    this.#attempt = 0;
    this.deps.next();
    this.#schedule(Math.random() * Math.max(0, closeInMs) * SPREAD_SHARE);
  }

  /** Abandons the handover and its socket (the old socket dropped, or the connection closed). */
  cancel(): void {
    this.#from = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const standby = this.#standby;
    this.#standby = null;
    standby?.removeAllListeners();
    standby?.disconnect();
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#try();
    }, ms);
  }

  async #try(): Promise<void> {
    const from = this.#from;
    if (!from || !this.deps.isCurrent(from)) return this.cancel();
    let socket: ChatSocket;
    try {
      socket = await this.deps.open();
    } catch {
      return this.#again(from);
    }
    if (this.#from !== from || !this.deps.isCurrent(from)) {
      socket.disconnect();
      return;
    }
    this.#standby = socket;
    socket.once('connect', () => {
      if (this.#standby !== socket) return;
      socket.removeAllListeners();
      this.#standby = null;
      this.#from = null;
      this.deps.promote(socket, from);
    });
    socket.once('connect_error', () => {
      if (this.#standby !== socket) return;
      socket.removeAllListeners();
      socket.disconnect();
      this.#standby = null;
      this.deps.next();
      this.#again(from);
    });
    socket.connect();
  }

  #again(from: ChatSocket): void {
    if (this.#from !== from) return;
    this.#attempt += 1;
    if (this.#attempt >= MAX_ATTEMPTS) {
      this.#from = null;
      return;
    }
    this.#schedule(backoffDelay(this.#attempt - 1, this.deps.backoff));
  }
}

/**
 * Requests awaiting their ack, per socket. A retired socket (the one a
 * handover replaced) is kept until its last ack is in — the draining node
 * acknowledges the sends it took before it closes — then disconnected, at the
 * latest after `lingerMs`.
 */
export class AckTracker {
  readonly #pending = new Map<ChatSocket, number>();
  readonly #retired = new Map<ChatSocket, ReturnType<typeof setTimeout>>();

  /** Counts `work` as awaiting an ack on `socket` until it settles. */
  async track<T>(socket: ChatSocket, work: Promise<T>): Promise<T> {
    this.#pending.set(socket, (this.#pending.get(socket) ?? 0) + 1);
    try {
      return await work;
    } finally {
      const left = (this.#pending.get(socket) ?? 1) - 1;
      if (left > 0) this.#pending.set(socket, left);
      else {
        this.#pending.delete(socket);
        if (this.#retired.has(socket)) this.#drop(socket);
      }
    }
  }

  /** Stops listening to `socket`; disconnects it once nothing awaits an ack on it. */
  retire(socket: ChatSocket, lingerMs: number): void {
    socket.removeAllListeners();
    if (!this.#pending.has(socket)) return void socket.disconnect();
    this.#retired.set(
      socket,
      setTimeout(() => this.#drop(socket), lingerMs),
    );
  }

  /** Disconnects every retired socket now. */
  dropAll(): void {
    for (const socket of [...this.#retired.keys()]) this.#drop(socket);
  }

  #drop(socket: ChatSocket): void {
    const timer = this.#retired.get(socket);
    if (timer) clearTimeout(timer);
    this.#retired.delete(socket);
    socket.disconnect();
  }
}
