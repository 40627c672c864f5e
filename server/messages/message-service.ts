import type { AuditStore } from '../../db/stores/audit-store.js';
import type { MessageChange, MessageStore } from '../../db/stores/message-store.js';
import type { AuditAction, CommittedKind, Message } from '../protocol.js';
import type { RateLimits } from '../rate-limits.js';
import type { Actor } from '../rooms/room-service.js';
import { judgeChange, refusal, type ChangeVerdict } from './message-rules.js';
import type { BatchPublisher } from './message-writer.js';

/**
 * Edits and deletions, whichever way they come (socket, admin API): judged
 * by message-rules.ts inside the change's transaction, published through the
 * same path as the sends (so every node emits a room's changes in change
 * order), audited when they are moderation.
 */
export class MessageService {
  constructor(
    private readonly messages: MessageStore,
    private readonly publisher: BatchPublisher,
    private readonly audit: AuditStore,
    private readonly limits: Pick<RateLimits, 'consumeEdit'>,
  ) {}

  async edit(actor: Actor, messageId: string, content: string): Promise<Message> {
    // Spent before the work, refused or not: probing costs like editing.
    await this.limits.consumeEdit(actor.userId);
    const message = await this.change(actor, messageId, { kind: 'edit', content }, 'message_edit');
    this.publish(message, 'updated');
    return message;
  }

  async delete(actor: Actor, messageId: string): Promise<Message> {
    const message = await this.change(actor, messageId, { kind: 'delete' }, 'message_delete');
    this.publish(message, 'deleted');
    return message;
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
