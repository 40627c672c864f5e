// Response shapes. The server never parses its own answers: these type what
// each route-table handler returns and describe it in the OpenAPI document,
// where each `id` names a component schema. Each is typed against its
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
  bannedUntil: timestamp.nullable().optional().describe('when a timed ban lifts by itself; null for a ban without end, or no ban'),
  createdAt: timestamp,
}).meta({ id: 'User' }) satisfies z.ZodType<P.User>;

export const roomSchema = z.object({
  id: uuid,
  name: z.string(),
  visibility: z.enum(['public', 'private']),
  readOnly: z.boolean(),
  archived: z.boolean(),
  lastSeq: z.number().int().min(0),
  createdAt: timestamp,
  joined: z.boolean().optional(),
}).meta({ id: 'Room' }) satisfies z.ZodType<P.RoomInfo>;

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
  change: z.number().int().min(1).describe('per room: the change number of this message\'s latest change (creation, last edit or deletion); what catch-up follows'),
}).meta({ id: 'Message' }) satisfies z.ZodType<P.Message>;

export const errorSchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES as [P.ErrorCode, ...P.ErrorCode[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
}).meta({ id: 'Error' }) satisfies z.ZodType<P.ErrorResponse>;

export const authResponseSchema = z.object({
  user: userSchema,
  accessToken: z.string(),
  expiresIn: z.number().int().describe('seconds'),
  refreshToken: z.string().optional().describe('native mode only'),
}).meta({ id: 'AuthResponse' }) satisfies z.ZodType<P.AuthResponse>;

export const refreshResponseSchema = z.object({
  accessToken: z.string(),
  expiresIn: z.number().int().describe('seconds'),
  refreshToken: z.string().optional().describe('native mode only'),
}).meta({ id: 'RefreshResponse' }) satisfies z.ZodType<P.RefreshResponse>;

export const userResponseSchema = z.object({ user: userSchema }).meta({ id: 'UserResponse' }) satisfies z.ZodType<P.UserResponse>;
export const roomResponseSchema = z.object({ room: roomSchema }).meta({ id: 'RoomResponse' }) satisfies z.ZodType<P.RoomResponse>;
export const roomsPageSchema = z.object({
  rooms: z.array(roomSchema),
  nextCursor: z.string().nullable().describe('pass as ?cursor= for the next page; null on the last page'),
}).meta({ id: 'RoomsPage' }) satisfies z.ZodType<P.RoomsPage>;
export const historyPageSchema = z.object({ messages: z.array(messageSchema), hasMore: z.boolean() }).meta({ id: 'HistoryPage' }) satisfies z.ZodType<P.HistoryPage>;
export const changesPageSchema = z.object({
  changes: z.array(messageSchema).describe('the current state of every message whose latest change is after `after`, ascending by change; a deleted message as its tombstone'),
  hasMore: z.boolean().describe('more changes follow: ask again with after = the last row\'s change'),
  lastChange: z.number().int().min(0).describe('the room\'s change number when the page was read'),
}).meta({ id: 'ChangesPage' }) satisfies z.ZodType<P.ChangesPage>;
export const usersPageSchema = z.object({ users: z.array(userSchema), nextCursor: z.string().nullable() }).meta({ id: 'UsersPage' }) satisfies z.ZodType<P.UsersPage>;
export const broadcastResultSchema = z.object({ delivered: z.number().int().min(0) }).meta({ id: 'BroadcastResult' }) satisfies z.ZodType<P.BroadcastResult>;

const auditActions = [
  'broadcast',
  'kick',
  'ban',
  'unban',
  'mute',
  'role_change',
  'message_delete',
  'message_edit',
  'room_update',
  'member_add',
  'member_remove',
] as const satisfies readonly P.AuditAction[];

export const auditEntrySchema = z
  .object({
    id: z.string(),
    actorId: uuid.nullable(),
    action: z.enum(auditActions),
    targetType: z.string(),
    targetId: z.string(),
    details: z.record(z.string(), z.unknown()),
    createdAt: timestamp,
  })
  .meta({ id: 'AuditEntry' });

export const auditPageSchema = z.object({ entries: z.array(auditEntrySchema), nextCursor: z.string().nullable() }).meta({ id: 'AuditPage' }) satisfies z.ZodType<P.AuditPage>;

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
export const readinessSchema = z.object({ status: z.enum(['ready', 'unavailable']), failed: z.array(z.string()).describe('the checks that failed: database, redis, draining') }).meta({ id: 'Readiness' });
