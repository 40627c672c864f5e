import type { AuditStore } from '../../db/stores/audit-store.js';
import type { MessageStore } from '../../db/stores/message-store.js';
import { AppError, notFound } from '../errors.js';
import type { Message } from '../protocol.js';
import type { ChatNamespace } from '../realtime/types.js';
import { roomChannel } from '../realtime/channels.js';
import type { Actor } from '../rooms/room-service.js';

/** Edits and deletions: by the author or an admin, told to the room on every node. */
export class MessageService {
  constructor(
    private readonly messages: MessageStore,
    private readonly chat: ChatNamespace,
    private readonly audit: AuditStore,
  ) {}

  async edit(actor: Actor, messageId: string, content: string): Promise<Message> {
    await this.ownedOrAdmin(actor, messageId);
    const message = await this.messages.edit(messageId, content);
    if (!message) throw notFound('message not found');
    this.chat.to(roomChannel(message.roomId)).emit('message:updated', message);
    return message;
  }

  async delete(actor: Actor, messageId: string): Promise<Message> {
    await this.ownedOrAdmin(actor, messageId);
    const message = await this.messages.softDelete(messageId);
    if (!message) throw notFound('message not found');
    this.chat.to(roomChannel(message.roomId)).emit('message:deleted', { id: message.id, roomId: message.roomId, seq: message.seq });
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

  private async ownedOrAdmin(actor: Actor, messageId: string): Promise<Message> {
    const message = await this.messages.findById(messageId);
    if (!message || message.deleted) throw notFound('message not found');
    if (message.userId !== actor.userId && actor.role !== 'admin') throw new AppError('forbidden', 'only the author or an admin may change a message');
    return message;
  }
}
