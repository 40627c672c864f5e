// Reactions (docs/sdk.md, "Reactions"): the room-wide `message:reaction`
// carries counts without `me`; the SDK keeps `me` for its user.
import type { Message, MessageReactionEvent, Reaction } from './protocol.js';

/** A `message:reaction` with `me` filled in for the signed-in user. */
export interface ReactionUpdate extends Omit<MessageReactionEvent, 'reactions'> {
  reactions: Reaction[];
}

/** Bound on the messages whose reactions by the user are remembered (oldest forgotten first). */
const MAX_TRACKED_MESSAGES = 5_000;

/**
 * The emojis the user has on each message, learned from every message state
 * that carries `reactions` (history, catch-up pages, acks) and from the
 * user's own `message:reaction` events; turns room-wide events into ones
 * with the right `me`.
 */
export class MyReactions {
  readonly #mine = new Map<string, Set<string>>();

  constructor(private readonly userId: () => string | null) {}

  /** Learns from a message state (one without `reactions` tells nothing). */
  learn(message: Message): void {
    if (!message.reactions) return;
    this.#set(message.id, new Set(message.reactions.filter((r) => r.me).map((r) => r.emoji)));
  }

  /** A broadcast message state (its `me` is nobody's) with `me` filled in for this user. */
  own(message: Message): Message {
    if (!message.reactions?.length) return message;
    const mine = this.#mine.get(message.id);
    return { ...message, reactions: message.reactions.map((r) => ({ ...r, me: mine?.has(r.emoji) ?? false })) };
  }

  /** Applies a room-wide event and answers it with `me` for this user. */
  apply(event: MessageReactionEvent): ReactionUpdate {
    const mine = new Set(this.#mine.get(event.messageId));
    if (event.userId === this.userId()) {
      if (event.added) mine.add(event.emoji);
      else mine.delete(event.emoji);
    }
    // An emoji whose count is gone is nobody's any more.
    const present = new Set(event.reactions.map((r) => r.emoji));
    for (const emoji of mine) if (!present.has(emoji)) mine.delete(emoji);
    this.#set(event.messageId, mine);
    return { ...event, reactions: event.reactions.map((r) => ({ ...r, me: mine.has(r.emoji) })) };
  }

  #set(messageId: string, emojis: Set<string>): void {
    this.#mine.delete(messageId);
    if (emojis.size === 0) return;
    this.#mine.set(messageId, emojis);
    if (this.#mine.size > MAX_TRACKED_MESSAGES) this.#mine.delete(this.#mine.keys().next().value!);
  }
}
