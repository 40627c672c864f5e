// Response shapes. The server never parses its own answers: these type what
// each route-table handler returns and describe it in the OpenAPI document,
// where each `id` names a component schema. Each is typed against its
// protocol shape, so a wire type that changes without them fails to compile.
import { z } from 'zod';
import type * as P from '../protocol.js';
import { API_KEY_SCOPES, ERROR_CODES, MAX_MENTIONS, MAX_RETENTION_DAYS, MENTION_COUNT_CAP, ROLES, UNREAD_COUNT_CAP, WEBHOOK_EVENT_TYPES } from '../protocol.js';

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
  readReceipts: z.boolean().describe('whether the room sends read:receipt events (off by default)'),
  retentionDays: z.number().int().min(0).max(MAX_RETENTION_DAYS).nullable().optional().describe("the room's own retention in days (0: for ever); null: the server's MESSAGE_RETENTION_DAYS"),
  oldestSeq: z.number().int().min(1).optional().describe('the first seq the room still holds; lower seqs were deleted by retention (not a gap)'),
  createdAt: timestamp,
  joined: z.boolean().optional(),
  readSeq: z.number().int().min(0).optional().describe("the caller's last-read seq (0: nothing read); in GET /api/rooms"),
  unreadCount: z.number().int().min(0).max(UNREAD_COUNT_CAP).optional().describe(`messages after readSeq not by the caller and not deleted; saturates at ${UNREAD_COUNT_CAP}; in GET /api/rooms`),
  mentionCount: z.number().int().min(0).max(MENTION_COUNT_CAP).optional().describe(`messages after readSeq that mention the caller, not deleted; saturates at ${MENTION_COUNT_CAP}; in GET /api/rooms`),
  dm: z.object({ userId: uuid, username: z.string() }).optional().describe('a direct room only: the pair\'s other user, as the caller sees it'),
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
  change: z.number().int().min(1).describe('per room: the change number of this message\'s latest change (creation, last edit, deletion or reaction); what catch-up follows'),
  mentions: z.array(uuid).max(MAX_MENTIONS).describe('ids of the room members its @usernames named, resolved when stored; [] when none or deleted'),
  replyToSeq: z.number().int().min(1).nullable().describe('the seq of the message of the same room this one replies to; null: not a reply'),
  replyCount: z.number().int().min(0).describe('messages replying to this one (deleted replies included)'),
  lastReplyAt: timestamp.nullable().describe('when the latest reply was stored; null: none'),
  reactions: z
    .array(z.object({ emoji: z.string(), count: z.number().int().min(1), me: z.boolean().describe('whether the caller reacted with it') }).meta({ id: 'Reaction' }))
    .optional()
    .describe('each emoji on the message with its count, in the order first used; [] once deleted (docs/protocol.md "Reactions")'),
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
export const historyPageSchema = z
  .object({
    messages: z.array(messageSchema),
    hasMore: z.boolean(),
    oldestSeq: z.number().int().min(1).optional().describe('the first seq the room still holds (read after the page); lower seqs were deleted by retention, not lost'),
  }).meta({ id: 'HistoryPage' }) satisfies z.ZodType<P.HistoryPage>;
export const memberChangeSchema = z.object({
  roomId: uuid,
  userId: uuid,
  username: z.string(),
  kind: z.enum(['joined', 'left']),
  change: z.number().int().min(1),
  at: timestamp,
}).meta({ id: 'MemberChange' }) satisfies z.ZodType<P.MemberChange>;
export const membersPageSchema = z.object({
  members: z.array(z.object({ userId: uuid, username: z.string(), online: z.boolean(), owner: z.boolean() })),
  nextCursor: z.string().nullable().describe('pass as ?cursor= for the next page; null on the last page'),
}).meta({ id: 'MembersPage' }) satisfies z.ZodType<P.MembersPage>;
export const changesPageSchema = z.object({
  changes: z.array(messageSchema).describe('the current state of every message whose latest change is after `after`, ascending by change; a deleted message as its tombstone'),
  hasMore: z.boolean().describe('more changes follow: ask again with after = the last row\'s change'),
  lastChange: z.number().int().min(0).describe('the room\'s change number when the page was read'),
  members: z.array(memberChangeSchema).optional().describe('the membership changes of the page\'s window, ascending by change; with `changes` at most `limit` entries: page on with after = the highest change of both'),
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
  'api_key_create',
  'api_key_revoke',
  'room_create',
  'message_publish',
  'sessions_end',
  'presence_read',
  'history_read',
  'changes_read',
  'webhook_create',
  'webhook_delete',
  'webhook_replay',
  'webhook_rotate',
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

const apiKeyFields = {
  id: uuid,
  name: z.string(),
  scopes: z.array(z.enum(API_KEY_SCOPES)),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable().describe('written at most once a minute per key; null until first used'),
};
export const apiKeySchema = z.object(apiKeyFields).meta({ id: 'ApiKey' }) satisfies z.ZodType<P.ApiKeyInfo>;
export const createdApiKeySchema = z
  .object({ ...apiKeyFields, key: z.string().startsWith('rck_').describe('the key itself: shown only in this answer') })
  .meta({ id: 'CreatedApiKey' }) satisfies z.ZodType<P.CreatedApiKey>;
export const apiKeysResponseSchema = z.object({ apiKeys: z.array(apiKeySchema) }).meta({ id: 'ApiKeys' }) satisfies z.ZodType<P.ApiKeysResponse>;
export const messageResponseSchema = z.object({ message: messageSchema }).meta({ id: 'MessageResponse' }) satisfies z.ZodType<{ message: P.Message }>;
export const serverPresencePageSchema = z
  .object({
    online: z.array(z.object({ userId: uuid, username: z.string() })),
    nextCursor: uuid.nullable(),
    count: z.number().int().min(0).describe('users online in the room in all, cluster-wide'),
  })
  .meta({ id: 'PresencePage' }) satisfies z.ZodType<P.ServerPresencePage>;
// Read state (docs/protocol.md, "Read state").
export const readResultSchema = z.object({ readSeq: z.number().int().min(0).describe('the stored read seq after the call') }).meta({ id: 'ReadResult' }) satisfies z.ZodType<P.ReadResult>;
export const roomReadsPageSchema = z.object({
  reads: z.array(z.object({ userId: uuid, username: z.string(), readSeq: z.number().int().min(0) }).meta({ id: 'RoomRead' })),
  nextCursor: uuid.nullable().describe('pass as ?cursor= for the next page; null on the last page'),
}).meta({ id: 'RoomReadsPage' }) satisfies z.ZodType<P.RoomReadsPage>;

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
export const readinessSchema = z.object({ status: z.enum(['ready', 'unavailable']), failed: z.array(z.string()).describe('the checks that failed: database, redis, draining') }).meta({ id: 'Readiness' });

export const webhookEndpointSchema = z.object({
  id: uuid,
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  secret: z.string().describe('the Standard Webhooks signing secret (whsec_<base64>)'),
  createdAt: timestamp,
}).meta({ id: 'WebhookEndpoint' }) satisfies z.ZodType<P.WebhookEndpoint>;

export const webhookListSchema = z.object({ webhooks: z.array(webhookEndpointSchema) }).meta({ id: 'WebhookList' });

export const webhookDeliverySchema = z.object({
  id: uuid.describe('the webhook-id header: the same on every attempt'),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: timestamp.nullable(),
  deliveredAt: timestamp.nullable(),
  createdAt: timestamp,
  data: z.unknown(),
}).meta({ id: 'WebhookDelivery' }) satisfies z.ZodType<P.WebhookDelivery>;

export const webhookDeliveryPageSchema = z.object({ deliveries: z.array(webhookDeliverySchema), nextCursor: z.string().nullable() }).meta({ id: 'WebhookDeliveryPage' }) satisfies z.ZodType<P.WebhookDeliveryPage>;
export const webhookDeliveryResponseSchema = z.object({ delivery: webhookDeliverySchema }).meta({ id: 'WebhookDeliveryResponse' });
/** GET /.well-known/jwks.json (RFC 7517): the public keys Roomcast's access tokens are verified with. */
export const jwkSetSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.enum(['RSA', 'OKP']),
        kid: z.string(),
        alg: z.enum(['RS256', 'EdDSA']),
        use: z.literal('sig'),
        n: z.string().optional().describe('RSA modulus (base64url)'),
        e: z.string().optional().describe('RSA exponent (base64url)'),
        crv: z.literal('Ed25519').optional(),
        x: z.string().optional().describe('Ed25519 public key (base64url)'),
      }).meta({ id: 'Jwk' }),
    ).describe('the signing key first, then the previous keys still accepted; empty under HS256'),
  })
  .meta({ id: 'JwkSet' });
