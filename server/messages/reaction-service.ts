import type { ReactionStore } from '../../db/stores/reaction-store.js';
import type { Message } from '../protocol.js';
import type { RateLimits } from '../rate-limits.js';
import type { Actor } from '../rooms/room-service.js';
import { judgeReaction, refusal } from './message-rules.js';
import type { BatchPublisher } from './message-writer.js';

/**
 * Reactions (issue 14): judged by message-rules.ts inside the reaction's
 * transaction; one that changes something is a change of its message and is
 * published through the same path as sends, edits and deletions (so every
 * node emits it in change order, as `message:reaction`).
 */
export class ReactionService {
  constructor(
    private readonly reactions: ReactionStore,
    private readonly publisher: BatchPublisher,
    private readonly limits: Pick<RateLimits, 'consumeReaction'>,
    private readonly maxEmojis: number,
  ) {}

  /** Adds the actor's emoji to the message (already there: no change); the message as the actor sees it. */
  react(actor: Actor, messageId: string, emoji: string): Promise<Message> {
    return this.apply(actor, messageId, emoji, true);
  }

  /** Removes the actor's emoji from the message (not there: no change). */
  unreact(actor: Actor, messageId: string, emoji: string): Promise<Message> {
    return this.apply(actor, messageId, emoji, false);
  }

  private async apply(actor: Actor, messageId: string, emoji: string, added: boolean): Promise<Message> {
    // Spent before the work, refused or not, like edits.
    await this.limits.consumeReaction(actor.userId);
    const reaction = { emoji, userId: actor.userId, added };
    const outcome = await this.reactions.apply(messageId, reaction, (context) => judgeReaction(actor, added, context, this.maxEmojis));
    if (!outcome) throw refusal('message_not_found');
    if (outcome.changed) {
      this.publisher.publish([{ message: outcome.message, kind: 'reaction', reaction, originSocketId: null, committedAt: Date.now() }]);
    }
    return outcome.message;
  }
}
