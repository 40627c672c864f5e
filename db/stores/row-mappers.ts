// Row-to-domain mapping: stores hand out protocol shapes, never knex rows.
import type { Message, Reaction, Role, RoomInfo, RoomVisibility } from '../../server/protocol.js';

export interface UserRow {
  id: string;
  username: string;
  /** Null for a user of an external identity provider that gave none. */
  email: string | null;
  /** Null for a user of an external identity provider (no password to sign in with). */
  password_hash: string | null;
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
  read_receipts: boolean;
  retention_days: number | null;
  oldest_seq: number;
  created_at: Date;
  joined?: boolean;
  /** Only where the query read the viewer's read state. */
  read_seq?: number;
  unread_count?: number;
  /** Only where the query counted the viewer's mentions. */
  mention_count?: number;
  /** Only where the query read a direct room's other user (issue 14): null for other rooms. */
  dm_user_id?: string | null;
  dm_username?: string | null;
}

export interface MessageRow {
  id: string;
  room_id: string;
  seq: number;
  user_id: string;
  username: string;
  content: string;
  client_msg_id: string;
  /** A Date from the driver, or the ISO text a statement formatted itself (the group commit's). */
  created_at: Date | string;
  edited_at: Date | null;
  deleted_at: Date | null;
  /** bigint: the driver answers it as a decimal string (db/database.ts); the counter never nears 2^53. */
  change: string | number;
  /** Mentioned user ids (issue 14); null when the message mentions no one. */
  mentions: string[] | null;
  /** Replies (issue 14). */
  reply_to_seq: number | null;
  reply_count: number;
  last_reply_at: Date | null;
  /** Reactions: only where the query read them for a viewer (db/stores/reaction-sql.ts). */
  reactions?: Reaction[] | null;
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
    readReceipts: row.read_receipts,
    retentionDays: row.retention_days,
    oldestSeq: row.oldest_seq,
    createdAt: iso(row.created_at),
  };
  if (row.joined !== undefined) room.joined = row.joined;
  if (row.read_seq !== undefined) room.readSeq = row.read_seq;
  if (row.unread_count !== undefined) room.unreadCount = row.unread_count;
  if (row.mention_count !== undefined) room.mentionCount = row.mention_count;
  if (row.dm_user_id) room.dm = { userId: row.dm_user_id, username: row.dm_username ?? '' };
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
    // A tombstone names no one, as it says nothing.
    mentions: deleted || !row.mentions ? [] : row.mentions,
    replyToSeq: row.reply_to_seq,
    replyCount: row.reply_count,
    lastReplyAt: row.last_reply_at ? iso(row.last_reply_at) : null,
    // A deleted message shows no reactions (its rows stay, like its seq).
    ...(row.reactions === undefined ? {} : { reactions: deleted ? [] : (row.reactions ?? []) }),
  };
}
