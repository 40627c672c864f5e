// What the membership use cases (issue 14) need from the sockets, declared
// here and implemented in server/realtime (wired in server/composition/).
import type { MemberChange } from '../protocol.js';

/** Tells the room's sockets of membership changes, in the room's change order on every node (MessageDelivery). */
export interface MemberPublisher {
  publishMembers(changes: MemberChange[]): void;
}

/** Takes a user's sockets out of a room on every node (server/realtime's RoomEviction). */
export interface MemberEvictor {
  evict(userId: string, roomId: string): Promise<number>;
}

/** Who of a room is online now, cluster-wide, by user id (the presence store). */
export interface OnlineReader {
  page(roomId: string, after: string | null, limit: number): Promise<{ online: { userId: string }[] }>;
}
