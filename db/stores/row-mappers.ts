// Row-to-domain mapping: stores hand out protocol shapes, never knex rows.
import type { Message, Role, RoomInfo, RoomVisibility } from '../../server/protocol.js';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  role: Role;
  banned: boolean;
  banned_until: Date | null;
  created_at: Date;
}

export interface RoomRow {
  id: string;
  name: string;
  visibility: RoomVisibility;
  read_only: boolean;
  archived: boolean;
  last_seq: number;
  created_at: Date;
  joined?: boolean;
}

export interface MessageRow {
  id: string;
  room_id: string;
  seq: number;
  user_id: string;
  username: string;
  content: string;
  client_msg_id: string;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  /** bigint: the driver answers it as a decimal string (db/database.ts); the counter never nears 2^53. */
  change: string | number;
}

export const iso = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();

export function toRoom(row: RoomRow): RoomInfo {
  const room: RoomInfo = {
    id: row.id,
    name: row.name,
    visibility: row.visibility,
    readOnly: row.read_only,
    archived: row.archived,
    lastSeq: row.last_seq,
    createdAt: iso(row.created_at),
  };
  if (row.joined !== undefined) room.joined = row.joined;
  return room;
}

export function toMessage(row: MessageRow): Message {
  const deleted = row.deleted_at !== null;
  return {
    id: row.id,
    roomId: row.room_id,
    seq: row.seq,
    userId: row.user_id,
    username: row.username,
    content: deleted ? '' : row.content,
    clientMsgId: row.client_msg_id,
    createdAt: iso(row.created_at),
    editedAt: row.edited_at ? iso(row.edited_at) : null,
    deleted,
    change: Number(row.change),
  };
}
