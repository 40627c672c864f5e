import type { MessageNotifier } from '../messages/message-service.js';
import type { Message } from '../protocol.js';
import { roomChannel } from './channels.js';
import type { ChatNamespace } from './types.js';

/** Edits and deletions, told to the room's /chat sockets on every node (through the adapter). */
export class SocketMessageNotifier implements MessageNotifier {
  constructor(private readonly chat: ChatNamespace) {}

  updated(message: Message): void {
    this.chat.to(roomChannel(message.roomId)).emit('message:updated', message);
  }

  deleted(message: Message): void {
    this.chat.to(roomChannel(message.roomId)).emit('message:deleted', { id: message.id, roomId: message.roomId, seq: message.seq });
  }
}
