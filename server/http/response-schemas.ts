// Response shapes for the OpenAPI document. The server never parses its own
// answers, so these exist only to describe them; each is typed against its
// protocol shape, so a wire type that changes without them fails to compile.
import { z } from 'zod';
import type * as P from '../protocol.js';
import { ERROR_CODES, ROLES } from '../protocol.js';

const uuid = z.uuid();
const timestamp = z.iso.datetime({ offset: true });

export const userSchema = z.object({
  id: uuid,
  username: z.string(),
  email: z.email().optional().describe('only for the user themself and for admins'),
  role: z.enum(ROLES),
  banned: z.boolean(),
  createdAt: timestamp,
}) satisfies z.ZodType<P.User>;

export const roomSchema = z.object({
  id: uuid,
  name: z.string(),
  visibility: z.enum(['public', 'private']),
  readOnly: z.boolean(),
  archived: z.boolean(),
  lastSeq: z.number().int().min(0),
  createdAt: timestamp,
  joined: z.boolean().optional(),
}) satisfies z.ZodType<P.RoomInfo>;

export const messageSchema = z.object({
  id: z.string().describe('decimal string (BIGSERIAL)'),
  roomId: uuid,
  seq: z.number().int().min(1).describe('per room: starts at 1, grows by exactly 1'),
  userId: uuid,
  username: z.string(),
  content: z.string().describe('"" once deleted'),
  clientMsgId: uuid,
  createdAt: timestamp,
  editedAt: timestamp.nullable(),
  deleted: z.boolean(),
}) satisfies z.ZodType<P.Message>;

export const errorSchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES as [P.ErrorCode, ...P.ErrorCode[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
}) satisfies z.ZodType<P.ErrorResponse>;

export const authResponseSchema = z.object({
  user: userSchema,
  accessToken: z.string(),
  expiresIn: z.number().int().describe('seconds'),
  refreshToken: z.string().optional().describe('native mode only'),
}) satisfies z.ZodType<P.AuthResponse>;

export const refreshResponseSchema = z.object({
  accessToken: z.string(),
  expiresIn: z.number().int().describe('seconds'),
  refreshToken: z.string().optional().describe('native mode only'),
}) satisfies z.ZodType<P.RefreshResponse>;

export const userResponseSchema = z.object({ user: userSchema }) satisfies z.ZodType<P.UserResponse>;
export const roomResponseSchema = z.object({ room: roomSchema }) satisfies z.ZodType<P.RoomResponse>;
export const roomsResponseSchema = z.object({ rooms: z.array(roomSchema) }) satisfies z.ZodType<P.RoomsResponse>;
export const historyPageSchema = z.object({ messages: z.array(messageSchema), hasMore: z.boolean() }) satisfies z.ZodType<P.HistoryPage>;
export const usersPageSchema = z.object({ users: z.array(userSchema), nextCursor: z.string().nullable() }) satisfies z.ZodType<P.UsersPage>;
export const broadcastResultSchema = z.object({ delivered: z.number().int().min(0) }) satisfies z.ZodType<P.BroadcastResult>;

const auditActions = [
  'broadcast',
  'kick',
  'ban',
  'unban',
  'mute',
  'role_change',
  'message_delete',
  'room_update',
  'member_add',
  'member_remove',
] as const satisfies readonly P.AuditAction[];

export const auditPageSchema = z.object({
  entries: z.array(
    z
      .object({
        id: z.string(),
        actorId: uuid.nullable(),
        action: z.enum(auditActions),
        targetType: z.string(),
        targetId: z.string(),
        details: z.record(z.string(), z.unknown()),
        createdAt: timestamp,
      }),
  ),
  nextCursor: z.string().nullable(),
}) satisfies z.ZodType<P.AuditPage>;

export const healthSchema = z.object({ status: z.literal('ok') });
export const readinessSchema = z.object({ status: z.enum(['ready', 'unavailable']), failed: z.array(z.string()) });
