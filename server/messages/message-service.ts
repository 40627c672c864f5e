import type { AuditStore } from '../../db/stores/audit-store.js';
import type { MessageChange, MessageStore } from '../../db/stores/message-store.js';
import type { AuditAction, CommittedKind, Message } from '../protocol.js';
import type { RateLimits } from '../rate-limits.js';
import type { Actor } from '../rooms/room-service.js';
import type { EditJudge } from './before-publish.js';
import { judgeChange, refusal, type ChangeVerdict } from './message-rules.js';
import type { BatchPublisher } from './message-writer.js';

/**
 * Edits and deletions, whichever way they come (socket, admin API): judged
 * by message-rules.ts inside the change's transaction, published through the
 * same path as the sends (so every node emits a room's changes in change
 * order), audited when they are moderation. With a before-publish hook, an
 * edit's new content is judged by the app first, outside any transaction
 * (after a lockless pre-check of the rules, so a refused edit asks no one).
 */
export class MessageService {
  constructor(
    private readonly messages: MessageStore,
    private readonly publisher: BatchPublisher,
    private readonly audit: AuditStore,
    private readonly limits: Pick<RateLimits, 'consumeEdit'>,
    /** The before-publish hook (null: none configured). */
    private readonly editJudge: EditJudge | null = null,
  ) {}

  async edit(actor: Actor & { username: string }, messageId: string, content: string): Promise<Message> {
    // Spent before the work, refused or not: probing costs like editing.
    await this.limits.consumeEdit(actor.userId);
    const judged = this.editJudge ? await this.judgedContent(this.editJudge, actor, messageId, content) : content;
    const message = await this.change(actor, messageId, { kind: 'edit', content: judged }, 'message_edit');
    this.publish(message, 'updated');
    return message;
  }

  async delete(actor: Actor, messageId: string): Promise<Message> {
    const message = await this.change(actor, messageId, { kind: 'delete' }, 'message_delete');
    this.publish(message, 'deleted');
    return message;
  }

  /**
   * The content the hook lets the edit store. The rules are checked first on
   * a lockless read (the transaction checks them again): an edit that would
   * be refused is refused without a call.
   */
  private async judgedContent(judge: EditJudge, actor: Actor & { username: string }, messageId: string, content: string): Promise<string> {
    const context = await this.messages.peekChange(messageId, actor.userId);
    if (!context) throw refusal('message_not_found');
    judgeChange(actor, 'edit', context);
    const { roomId, seq } = context.message;
    return judge.judgeEdit({ kind: 'edit', roomId, messageId, seq, userId: actor.userId, username: actor.username, content, via: 'socket' });
  }

  private publish(message: Message, kind: CommittedKind): void {
    this.publisher.publish([{ message, kind, originSocketId: null, committedAt: Date.now() }]);
  }

  private async change(actor: Actor, messageId: string, change: MessageChange, action: AuditAction): Promise<Message> {
    const changed = await this.messages.change(messageId, actor.userId, change, (context) => judgeChange(actor, change.kind, context));
    if (!changed) throw refusal('message_not_found');
    const { message, decision } = changed;
    if (decision.audited) await this.record(actor, action, message, decision);
    return message;
  }

  private record(actor: Actor, action: AuditAction, message: Message, { overrode }: ChangeVerdict): Promise<void> {
    return this.audit.record({
      actorId: actor.userId,
      action,
      targetType: 'message',
      targetId: message.id,
      details: { roomId: message.roomId, seq: message.seq, authorId: message.userId, ...(overrode ? { overrode } : {}) },
    });
  }
}
