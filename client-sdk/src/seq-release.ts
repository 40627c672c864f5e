import type { Message, MessageDeletedEvent, MessageReactionEvent } from './protocol.js';

/**
 * The SDK's `deleted` event: the deletion as the wire sends it, and, when the
 * SDK got the deletion as a state (a catch-up page holds the tombstone, not
 * the live `message:deleted`), the tombstone itself, as history shows it. A
 * tombstone keeps what changed before the delete (a parent's `replyCount` and
 * `lastReplyAt`, `editedAt`), and an app that was away may have missed those
 * changes: it replaces its copy with `message` when there is one. Without
 * one, every earlier change was handed out first, so the app's copy with
 * `deleted: true`, content '' and no reactions is the tombstone.
 */
export interface MessageDeleted extends MessageDeletedEvent {
  message?: Message;
}

/** The app-facing events of a room's messages. */
export interface MessageSink {
  /** A message the app has not seen: exactly once per seq, in seq order (a tombstone too, with `deleted: true`). */
  message(message: Message): void;
  /** A newer state of a message the app has seen. */
  updated(message: Message): void;
  /** A message the app has seen was deleted (with the tombstone when a state carried the deletion). */
  deleted(event: MessageDeleted): void;
  /** A reaction was added to or removed from a message the app has seen. */
  reaction(event: MessageReactionEvent): void;
}

/**
 * Turns message states (each the state as of its `change`) into the app's
 * view: a message whose seq the app has not reached yet waits until every
 * lower seq was shown (then it is shown as new, in its latest state); one it
 * has seen becomes `updated` or `deleted`. A state no newer than the one
 * already shown for that message is dropped, so no change reaches the app
 * twice or backwards. Knows nothing of change numbers' gaps: the caller
 * (RoomSequencer) feeds states in change order, or from a seq fill.
 */
export class SeqRelease {
  #highest: number | null;
  /** States of messages past a seq gap (seq > highest + 1), latest state per seq. */
  readonly #held = new Map<number, Message>();
  /** The change shown for messages shown ahead of the change stream (pruned once it passes them). */
  readonly #shown = new Map<string, number>();

  constructor(
    private readonly sink: MessageSink,
    highest: number | null = null,
  ) {
    this.#highest = highest;
  }

  /** The seq of the last message shown as new (null before start). */
  get highest(): number | null {
    return this.#highest;
  }

  /** Whether states wait for a lower seq that has not come yet. */
  get holding(): boolean {
    return this.#held.size > 0;
  }

  /** Sets the seq the app's view starts after, unless one is known already. */
  start(highest: number): void {
    this.#highest ??= highest;
    this.#release();
  }

  /**
   * Retention (issue 19): the seqs up to `seq` are gone from the room (a
   * retention cut), so the view goes on after it instead of waiting for them
   * as for a gap; states held below it are dropped. Only ever moves forward.
   */
  skipTo(seq: number): void {
    if (this.#highest !== null && seq <= this.#highest) return;
    this.#highest = seq;
    for (const held of this.#held.keys()) if (held <= seq) this.#held.delete(held);
    this.#release();
  }

  /** Applies one message state (call only after `start`). */
  apply(message: Message): void {
    const shown = this.#shown.get(message.id);
    if (shown !== undefined && shown >= message.change) return;
    const highest = this.#highest ?? 0;
    if (message.seq <= highest) {
      this.#shown.set(message.id, message.change);
      // A state that is a tombstone may carry changes the app never saw (a catch-up page skips superseded ones): hand it on.
      if (message.deleted) this.sink.deleted({ id: message.id, roomId: message.roomId, seq: message.seq, change: message.change, message });
      else this.sink.updated(message);
      return;
    }
    const held = this.#held.get(message.seq);
    if (!held || held.change < message.change) this.#held.set(message.seq, message);
    this.#release();
  }

  /**
   * Applies a live delete (it carries no message): possible only for a
   * message the app has seen. Returns false when the message is not shown
   * yet, so the caller fetches its tombstone instead.
   */
  applyDeleted(event: MessageDeletedEvent): boolean {
    if (this.#highest === null || event.seq > this.#highest) return false;
    const shown = this.#shown.get(event.id);
    if (shown !== undefined && shown >= event.change) return true;
    this.#shown.set(event.id, event.change);
    this.sink.deleted(event);
    return true;
  }

  /** Applies a live reaction change, like `applyDeleted`: false when the message is not shown yet (its state comes with the catch-up). */
  applyReaction(event: MessageReactionEvent): boolean {
    if (this.#highest === null || event.seq > this.#highest) return false;
    const shown = this.#shown.get(event.messageId);
    if (shown !== undefined && shown >= event.change) return true;
    this.#shown.set(event.messageId, event.change);
    this.sink.reaction(event);
    return true;
  }

  /** Forgets what the change stream has passed (`lastChange`): only states ahead of it need remembering. */
  prune(lastChange: number): void {
    for (const [id, change] of this.#shown) if (change <= lastChange) this.#shown.delete(id);
  }

  clear(): void {
    this.#held.clear();
    this.#shown.clear();
  }

  #release(): void {
    if (this.#highest === null) return;
    let next = this.#held.get(this.#highest + 1);
    while (next) {
      this.#held.delete(next.seq);
      this.#highest = next.seq;
      this.#shown.set(next.id, next.change);
      this.sink.message(next);
      next = this.#held.get(this.#highest + 1);
    }
  }
}
