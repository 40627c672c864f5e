import type { RoomEvictor } from '../admin/admin-ports.js';
import type { RoomKickedEvent } from '../protocol.js';
import type { Logger } from '../logger.js';
import { roomChannel, userChannel } from './channels.js';
import type { PresenceStore } from './presence.js';
import type { ChatNamespace } from './types.js';

/**
 * Takes a user's /chat sockets out of a room on every node (kick, removal
 * from a private room). The sockets are found through the user's Socket.IO
 * room, so the adapter makes it cluster-wide; presence is updated here
 * because the sockets leave without a `room:leave` or a disconnect.
 */
export class RoomEviction implements RoomEvictor {
  constructor(
    private readonly chat: ChatNamespace,
    private readonly presence: PresenceStore,
    private readonly logger: Logger,
  ) {}

  /** Returns how many sockets were in the room; with `kicked`, they hear `room:kicked` first. */
  async evict(userId: string, roomId: string, kicked?: RoomKickedEvent): Promise<number> {
    const room = roomChannel(roomId);
    const user = userChannel(userId);
    const sockets = (await this.chat.in(user).fetchSockets()).filter((socket) => socket.rooms.has(room));
    // Addressed by socket id (each socket's own Socket.IO room), so it reaches them on every node.
    if (kicked && sockets.length > 0) this.chat.to(sockets.map((socket) => socket.id)).emit('room:kicked', kicked);
    this.chat.in(user).socketsLeave(room);
    if (sockets.length === 0) return 0;

    let wentOffline = false;
    for (const socket of sockets) {
      try {
        if (await this.presence.remove(roomId, userId, socket.id)) wentOffline = true;
      } catch (err) {
        this.logger.warn('presence update failed', { socketId: socket.id, roomId, err });
      }
    }
    // The evicted user's own sockets hear it too: that is how a client learns it is out of the room.
    if (wentOffline) {
      this.chat.to(room).to(user).emit('presence', { roomId, userId, username: sockets[0]!.data.username, online: false });
    }
    return sockets.length;
  }
}
