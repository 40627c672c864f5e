import type { Broadcaster } from '../admin/admin-ports.js';
import type { RoomInfo, RoomMutedEvent } from '../protocol.js';
import { roomChannel, userChannel } from './channels.js';
import type { ChatNamespace } from './types.js';

/** Server-originated news for /chat sockets, on every node (through the adapter). */
export class SystemBroadcaster implements Broadcaster {
  constructor(private readonly chat: ChatNamespace) {}

  /** Sends `system:broadcast` to every /chat socket, or to one room's; returns how many sockets were targeted. */
  async send(content: string, roomId: string | null): Promise<number> {
    const target = roomId ? this.chat.in(roomChannel(roomId)) : this.chat;
    const sockets = await target.fetchSockets();
    target.emit('system:broadcast', { content, roomId, createdAt: new Date().toISOString() });
    return sockets.length;
  }

  /** Tells a room's sockets its settings changed. */
  roomUpdated(room: RoomInfo): void {
    this.chat.to(roomChannel(room.id)).emit('room:updated', room);
  }

  /** `room:muted` to every /chat socket of the user: a mute holds for sends whether or not they joined the room. */
  userMuted(userId: string, event: RoomMutedEvent): void {
    this.chat.to(userChannel(userId)).emit('room:muted', event);
  }
}
