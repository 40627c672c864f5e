// Replies and threads (docs/sdk.md, "Threads").
import { Emitter } from './emitter.js';
import type { HistoryPage, HistoryQuery, Message } from './protocol.js';
import type { MessageDeleted } from './seq-release.js';

/** Events of a thread handle. */
export interface ThreadEvents {
  /** A new reply, live: each once, in seq order (the room's `message` stream, replayed after a reconnect too). */
  reply: Message;
  /** A newer state of a reply the thread holds (edited, or its own replyCount moved). */
  updated: Message;
  /** A reply the thread holds was deleted (it stays, as a tombstone; `message`: as the room's `deleted`). */
  deleted: MessageDeleted;
  /** The parent's newer state: `replyCount`, `lastReplyAt`, an edit or its deletion. */
  parent: Message;
}

/** The room's message events a thread follows. */
export interface ThreadSourceEvents {
  message: Message;
  updated: Message;
  deleted: MessageDeleted;
}

/** What a Thread needs from its room. */
export interface ThreadSource {
  /** Room events, as the Room emits them; returns the unsubscribe. */
  on<K extends keyof ThreadSourceEvents>(event: K, listener: (payload: ThreadSourceEvents[K]) => void): () => void;
  /** A page of the thread (`GET /api/rooms/:id/messages/:seq/replies`). */
  fetchReplies(query: HistoryQuery): Promise<HistoryPage>;
  /** Sends a reply to the parent. */
  sendReply(content: string): Promise<Message>;
}

/**
 * The replies to one message of a joined room: history pages loaded on
 * demand (`loadOlder`), and live replies as the room delivers them, merged
 * into one list by seq with nothing twice. Get one with
 * `await room.thread(parentSeq)`; `close()` it when done.
 */
export class Thread extends Emitter<ThreadEvents> {
  readonly #replies = new Map<number, Message>();
  #parent: Message | null;
  #hasOlder = true;
  #loadedOnce = false;
  readonly #unsubscribe: (() => void)[];

  /** @internal Created by `Room.thread`. */
  constructor(
    /** The seq of the message whose replies this is. */
    readonly parentSeq: number,
    private readonly source: ThreadSource,
    parent: Message | null,
  ) {
    super();
    this.#parent = parent;
    this.#unsubscribe = [
      source.on('message', (m) => this.#onMessage(m)),
      source.on('updated', (m) => this.#onUpdated(m)),
      source.on('deleted', (e) => this.#onDeleted(e)),
    ];
  }

  /** The parent message as last seen (null if it was not found). */
  get parent(): Message | null {
    return this.#parent;
  }

  /** The replies loaded or received so far, oldest first. */
  get replies(): Message[] {
    return [...this.#replies.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Whether older replies than the loaded ones may exist (`loadOlder` fetches them). */
  get hasOlder(): boolean {
    return this.#hasOlder;
  }

  /**
   * Loads the page of replies before the oldest one held (the latest page the
   * first time) and merges it in; resolves with the replies it added.
   * @example
   * const thread = await room.thread(message.seq);
   * while (thread.hasOlder) await thread.loadOlder(50);
   */
  async loadOlder(limit = 50): Promise<Message[]> {
    const oldest = this.#loadedOnce ? this.replies[0]?.seq : undefined;
    const page = await this.source.fetchReplies({ limit, ...(oldest === undefined ? {} : { beforeSeq: oldest }) });
    this.#loadedOnce = true;
    this.#hasOlder = page.hasMore;
    const added: Message[] = [];
    for (const message of page.messages) {
      const held = this.#replies.get(message.seq);
      if (held && held.change >= message.change) continue;
      this.#replies.set(message.seq, message);
      if (!held) added.push(message);
    }
    return added;
  }

  /**
   * Sends a reply to the parent (queued, retried and acknowledged as `room.send`).
   * @example
   * await thread.send('good point');
   */
  send(content: string): Promise<Message> {
    return this.source.sendReply(content);
  }

  /** Stops following the room. */
  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  #onMessage(message: Message): void {
    if (message.seq === this.parentSeq) return this.#setParent(message);
    if (message.replyToSeq !== this.parentSeq || this.#replies.has(message.seq)) return;
    this.#replies.set(message.seq, message);
    this.emit('reply', message);
  }

  #onUpdated(message: Message): void {
    if (message.seq === this.parentSeq) return this.#setParent(message);
    const held = this.#replies.get(message.seq);
    if (!held || held.change >= message.change) return;
    this.#replies.set(message.seq, message);
    this.emit('updated', message);
  }

  #onDeleted(event: MessageDeleted): void {
    // The tombstone when the deletion came as a state (it may carry a replyCount the thread missed), else the held copy made one.
    const tombstone = (held: Message): Message => event.message ?? { ...held, content: '', deleted: true, change: event.change };
    if (event.seq === this.parentSeq && this.#parent) return this.#setParent(tombstone(this.#parent));
    const held = this.#replies.get(event.seq);
    if (!held || held.change >= event.change) return;
    this.#replies.set(event.seq, tombstone(held));
    this.emit('deleted', event);
  }

  #setParent(message: Message): void {
    if (this.#parent && this.#parent.change >= message.change) return;
    this.#parent = message;
    this.emit('parent', message);
  }
}
