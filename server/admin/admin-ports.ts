// What the admin use cases need from the outside, as small interfaces: the
// nodes implement them with their namespaces (server/realtime), a separate
// process such as the admin CLI with what it can reach (scripts/).
import type { Message, Room, StatsResult } from '../protocol.js';
import type { Actor } from '../rooms/room-service.js';

/** Takes a user's /chat sockets out of a room on every node; answers how many were in it. */
export interface RoomEvictionPort {
  evict(userId: string, roomId: string): Promise<number>;
}

/** Server-originated news for /chat sockets. */
export interface SystemNewsPort {
  /** Sends `system:broadcast` to every /chat socket, or to one room's; answers how many were targeted. */
  send(content: string, roomId: string | null): Promise<number>;
  /** Tells a room's sockets its settings changed. */
  roomUpdated(room: Room): void;
}

/** The cluster's sockets and users, per node. */
export interface StatsSource {
  collect(): Promise<StatsResult>;
}

/** Soft deletion of a message, told to its room (and audited when by an admin). */
export interface MessageDeletion {
  delete(actor: Actor, messageId: string): Promise<Message>;
}
