import type { Message } from '../protocol.js';

export interface Sequenced {
  message: Message;
  originSocketId: string | null;
  /** When it committed (epoch ms), if known; read by the delivery-lag metric. */
  committedAt?: number;
}

/**
 * Puts one room's messages back in seq order on this node. Messages below
 * the next expected seq are dropped (already delivered, or older than what a
 * joining socket read from history); messages above it wait until the gap is
 * filled, by arrival or by `fill` from the database.
 */
export class RoomSequencer {
  private readonly waiting = new Map<number, Sequenced>();

  constructor(private nextSeq: number) {}

  get expected(): number {
    return this.nextSeq;
  }

  get hasGap(): boolean {
    return this.waiting.size > 0;
  }

  /** The highest seq waiting behind a gap. */
  get highestWaiting(): number {
    let highest = 0;
    for (const seq of this.waiting.keys()) highest = Math.max(highest, seq);
    return highest;
  }

  /** Accepts a message; returns those now deliverable, in order. */
  push(item: Sequenced): Sequenced[] {
    const { seq } = item.message;
    if (seq < this.nextSeq || this.waiting.has(seq)) return [];
    this.waiting.set(seq, item);
    return this.release();
  }

  /** Fills a gap with messages read from the database (seq-ordered); returns what is deliverable. */
  fill(messages: Message[]): Sequenced[] {
    for (const message of messages) {
      if (message.seq >= this.nextSeq && !this.waiting.has(message.seq)) this.waiting.set(message.seq, { message, originSocketId: null });
    }
    return this.release();
  }

  /** Gives up on seqs that cannot be found (never expected in practice): skips to the lowest waiting. */
  skipGap(): Sequenced[] {
    if (this.waiting.size === 0) return [];
    this.nextSeq = Math.min(...this.waiting.keys());
    return this.release();
  }

  private release(): Sequenced[] {
    const ready: Sequenced[] = [];
    for (let item = this.waiting.get(this.nextSeq); item; item = this.waiting.get(this.nextSeq)) {
      this.waiting.delete(this.nextSeq);
      ready.push(item);
      this.nextSeq++;
    }
    return ready;
  }
}
