// What the admin use cases need from the sockets, as they need it: the
// composition root passes server/realtime's implementations, so this folder
// knows nothing of Socket.IO (the pattern of auth's SessionEnder).
import type { Message, RoomInfo, RoomKickedEvent, RoomMutedEvent, StatsResult } from '../protocol.js';
import type { Actor } from '../rooms/room-service.js';

/** Takes a user's sockets out of a room on every node. */
export interface RoomEvictor {
  /**
   * Resolves with how many sockets were in the room. With `kicked`, those
   * sockets get `room:kicked` before they leave (a kick, not a membership change).
   */
  evict(userId: string, roomId: string, kicked?: RoomKickedEvent): Promise<number>;
}

/** Server-originated news for the chat sockets, on every node. */
export interface Broadcaster {
  /** `system:broadcast` to every chat socket, or to one room's (roomId); resolves with how many were targeted. */
  send(content: string, roomId: string | null): Promise<number>;
  /** Tells a room's sockets its settings changed. */
  roomUpdated(room: RoomInfo): void;
  /** Tells every socket of the user (`room:muted`) that their mute in a room was set or lifted. */
  userMuted(userId: string, event: RoomMutedEvent): void;
}

/** Counts across the cluster for admin:stats. */
export interface StatsSource {
  collect(): Promise<StatsResult>;
}

/** Soft deletion of a message, told to its room (and audited when by an admin). */
export interface MessageDeletion {
  delete(actor: Actor, messageId: string): Promise<Message>;
}
