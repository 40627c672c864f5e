import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { isTransient, localError, localReason, RoomcastError, toRoomcastError } from './errors.js';
import type { Message } from './protocol.js';

export interface OutboxDeps {
  /** Resolves when sends can go out (connected, room joined); rejects when they never will. */
  ready(): Promise<void>;
  /** One attempt at message:send; rejects with a RoomcastError. */
  send(content: string, clientMsgId: string, replyToSeq?: number): Promise<Message>;
  /** The stored message, before the send's promise resolves. */
  acked(message: Message): void;
  /** Ack timeouts and server-side failures tolerated per send before it is rejected. */
  maxAttempts: number;
  newId(): string;
}

interface PendingSend {
  content: string;
  clientMsgId: string;
  /** A reply's parent seq. */
  replyToSeq: number | undefined;
  failures: number;
  resolve(message: Message): void;
  reject(err: RoomcastError): void;
}

/**
 * One room's sends, in order, one at a time: the next goes out when the one
 * before is stored (so the room's seq order is the order of `send` calls).
 * Each send keeps its clientMsgId across retries, so a retry after a lost ack
 * gets the stored original back instead of a duplicate. Waiting for a
 * connection does not count as a failure; a send is rejected only when the
 * server refuses it, after `maxAttempts` timeouts / server failures, or when
 * the room or client is gone.
 */
export class Outbox {
  readonly #queue: PendingSend[] = [];
  #running = false;
  #closed: RoomcastError | null = null;

  constructor(private readonly deps: OutboxDeps) {}

  get size(): number {
    return this.#queue.length;
  }

  push(content: string, replyToSeq?: number): Promise<Message> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ content, clientMsgId: this.deps.newId(), replyToSeq, failures: 0, resolve, reject });
      if (!this.#running) void this.#run();
    });
  }

  /** Rejects every queued send and refuses new ones. */
  close(err: RoomcastError): void {
    this.#closed = err;
    for (const send of this.#queue.splice(0)) send.reject(err);
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const head = this.#queue[0]!;
        try {
          await this.deps.ready();
          if (this.#closed || this.#queue[0] !== head) continue;
          const message = await this.deps.send(head.content, head.clientMsgId, head.replyToSeq);
          if (this.#queue[0] !== head) continue;
          this.#queue.shift();
          this.deps.acked(message);
          head.resolve(message);
        } catch (err) {
          if (this.#queue[0] !== head) continue;
          const error = toRoomcastError(err);
          const reason = localReason(error);
          if (reason === 'closed' || reason === 'left') {
            this.close(error);
            break;
          }
          if (reason === 'disconnected') continue; // ready() waits for the reconnect
          if (reason === 'timeout' || isTransient(error) || error.code === 'token_expired') {
            head.failures += 1;
            if (head.failures < this.deps.maxAttempts) {
              if (reason !== 'timeout') await sleep(backoffDelay(head.failures - 1, DEFAULT_BACKOFF));
              continue;
            }
          }
          this.#queue.shift();
          head.reject(reason === 'timeout' ? localError('timeout', `message not acknowledged after ${head.failures} attempts`) : error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
