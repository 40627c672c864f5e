// Names of the Socket.IO rooms the server addresses. Everything that must
// reach "a user" or "a login" everywhere goes through these rooms, so the
// Redis adapter makes it cluster-wide without other changes.
export const roomChannel = (roomId: string) => `room:${roomId}`;
export const userChannel = (userId: string) => `user:${userId}`;
export const sessionChannel = (sessionId: string) => `session:${sessionId}`;

/** The chat room ids a socket has joined, from its Socket.IO rooms. */
export function joinedRoomIds(rooms: Iterable<string>): string[] {
  const ids: string[] = [];
  for (const room of rooms) if (room.startsWith('room:')) ids.push(room.slice(5));
  return ids;
}
