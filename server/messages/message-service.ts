import type { AuditStore } from '../../db/stores/audit-store.js';
import type { MessageStore } from '../../db/stores/message-store.js';
import type { Message } from '../protocol.js';
import type { Actor } from '../rooms/room-service.js';
import { assertMayChange, refusal } from './message-rules.js';

/** Tells a room's sockets, on every node, that one of its messages changed (implemented in server/realtime). */
export interface MessageNotifier {
  updated(message: Message): void;
  deleted(message: Message): void;
}

/** Edits and deletions: by the author or an admin (message-rules.ts), told to the room on every node. */
export class MessageService {
  constructor(
    private readonly messages: MessageStore,
    private readonly notifier: MessageNotifier,
    private readonly audit: AuditStore,
  ) {}

  async edit(actor: Actor, messageId: string, content: string): Promise<Message> {
    assertMayChange(actor, await this.messages.findById(messageId));
    const message = await this.messages.edit(messageId, content);
    if (!message) throw refusal('message_not_found');
    this.notifier.updated(message);
    return message;
  }

  async delete(actor: Actor, messageId: string): Promise<Message> {
    assertMayChange(actor, await this.messages.findById(messageId));
    const message = await this.messages.softDelete(messageId);
    if (!message) throw refusal('message_not_found');
    this.notifier.deleted(message);
    // A deletion by an admin is moderation, whichever way it came (REST or socket): it goes in the audit trail.
    if (actor.role === 'admin') {
      await this.audit.record({
        actorId: actor.userId,
        action: 'message_delete',
        targetType: 'message',
        targetId: message.id,
        details: { roomId: message.roomId, seq: message.seq, authorId: message.userId },
      });
    }
    return message;
  }
}
