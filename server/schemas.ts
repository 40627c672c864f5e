// Every REST body and socket payload is checked by one of these schemas. Each
// is typed against its protocol shape, so a change to the wire types that the
// validation misses fails to compile.
import { z } from 'zod';
import type * as P from './protocol.js';
import { API_KEY_SCOPES, DEFAULT_CHANGES_PAGE_SIZE, MAX_CHANGES_PAGE_SIZE, MAX_RETENTION_DAYS, ROLES, WEBHOOK_EVENT_TYPES } from './protocol.js';
import { displayName, reactionEmoji, text } from './text-fields.js';

/**
 * Every UUID on the wire (room, user, clientMsgId) in its canonical lower-case
 * form: Socket.IO channels, presence keys and acks compare ids as strings, so
 * an upper-case spelling (some platforms print UUIDs so) would otherwise name
 * a second room with the same rows.
 */
export const canonicalUuid = () => z.uuid({ message: 'must be a UUID' }).transform((id) => id.toLowerCase());
const uuid = canonicalUuid();
const seqNumber = z.coerce.number().int().min(0);
/** Largest BIGSERIAL value: a longer-looking id would reach PostgreSQL as an out-of-range error (`internal`). */
const MAX_MESSAGE_ID = 9223372036854775807n;
const messageId = z
  .string()
  .regex(/^[1-9][0-9]{0,18}$/, 'must be a message id')
  .refine((value) => /^[0-9]{1,19}$/.test(value) && BigInt(value) <= MAX_MESSAGE_ID, 'must be a message id'); // zod runs this even when the regex failed

export const registerSchema = z.strictObject({
  username: displayName().regex(/^[a-zA-Z0-9_.-]{3,32}$/, 'must be 3-32 letters, digits, _ . or -'),
  // The email format admits printable ASCII only: no NUL or surrogate passes it.
  email: z.email().max(254),
  password: text()
    .refine((p) => Buffer.byteLength(p, 'utf8') >= 8, 'must be at least 8 bytes')
    .refine((p) => Buffer.byteLength(p, 'utf8') <= 72, 'must be at most 72 bytes'),
  client: z.literal('native').optional(),
}) satisfies z.ZodType<P.RegisterRequest>;

export const loginSchema = z.strictObject({
  login: text().min(1).max(254),
  password: text().min(1).max(1024),
  client: z.literal('native').optional(),
}) satisfies z.ZodType<P.LoginRequest>;

export const refreshSchema = z.object({ refreshToken: text().min(1).max(512).optional() }) satisfies z.ZodType<P.RefreshRequest>;

/** Room names: trimmed, 1-64 characters, and safe to show (NFC, no control, bidi or invisible-only names). */
export const roomNameSchema = displayName().trim().min(1).max(64);

export const createRoomSchema = z.strictObject({
  name: roomNameSchema,
  visibility: z.enum(['public', 'private']).optional(),
  readOnly: z.boolean().optional(),
}) satisfies z.ZodType<P.CreateRoomRequest>;

export const updateRoomSchema = z
  .strictObject({
    name: roomNameSchema.optional(),
    readOnly: z.boolean().optional(),
    archived: z.boolean().optional(),
    readReceipts: z.boolean().optional(),
    // Retention (issue 19): days kept, 0 for ever, null back to the server's MESSAGE_RETENTION_DAYS.
    retentionDays: z.number().int().min(0).max(MAX_RETENTION_DAYS).nullable().optional(),
  })
  .refine((b) => b.name !== undefined || b.readOnly !== undefined || b.archived !== undefined || b.readReceipts !== undefined || b.retentionDays !== undefined, {
    message: 'give name, readOnly, archived, readReceipts or retentionDays',
  }) satisfies z.ZodType<P.UpdateRoomRequest>;

export const addMemberSchema = z.strictObject({ userId: uuid }) satisfies z.ZodType<P.AddMemberRequest>;

/** History window: afterSeq or beforeSeq (not both), limit 1-200, default 50. */
export const historyQuerySchema = z
  .object({
    afterSeq: seqNumber.optional(),
    beforeSeq: seqNumber.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .refine((q) => q.afterSeq === undefined || q.beforeSeq === undefined, {
    message: 'give afterSeq or beforeSeq, not both',
  });

/** A change number (issue 13): an integer ≥ 0 that a double holds exactly (the counter is a bigint far from 2^53). */
const changeNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const changesLimit = z.number().int().min(1).max(MAX_CHANGES_PAGE_SIZE);

/** `GET /api/rooms/:id/changes`: `after` (default 0), `limit` 1-500 (default 200). */
export const changesQuerySchema = z.object({
  after: z.coerce.number().pipe(changeNumber).default(0),
  limit: z.coerce.number().pipe(changesLimit).default(DEFAULT_CHANGES_PAGE_SIZE),
}) satisfies z.ZodType<Required<P.ChangesQuery>, unknown>;

/** `GET /api/rooms`: a page of at most 200 rooms (default 100), optionally only names containing `q`. */
export const roomListQuerySchema = z.object({
  q: text().trim().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
  // Opaque to clients; today the id of the previous page's last room.
  cursor: uuid.optional(),
});

export const idParamSchema = z.object({ id: uuid });
export const messageIdParamSchema = z.object({ id: messageId });
export const memberParamsSchema = z.object({ id: uuid, userId: uuid });
/** `GET /api/rooms/:id/messages/:seq/replies`: a room and the seq of the thread's parent. */
export const threadParamsSchema = z.object({ id: uuid, seq: z.coerce.number().int().min(1).max(2_147_483_647) });

/** Longest mute, kick block or timed ban, in minutes: a year. */
const MAX_MINUTES = 525_600;

export const updateUserSchema = z
  .strictObject({
    role: z.enum(ROLES).optional(),
    banned: z.boolean().optional(),
    bannedUntil: z.iso
      .datetime({ offset: true, message: 'must be an ISO-8601 date-time' })
      .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
      .optional(),
  })
  .refine((b) => b.role !== undefined || b.banned !== undefined, { message: 'give role or banned' })
  .refine((b) => b.bannedUntil === undefined || b.banned === true, { message: 'bannedUntil goes with banned: true', path: ['bannedUntil'] }) satisfies z.ZodType<P.UpdateUserRequest>;

export const userSearchSchema = z.object({
  q: text().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: text().max(64).optional(),
});

export const auditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: messageId.optional(),
});

// ------------------------------------------------- server API (issue 15)

export const createApiKeySchema = z.strictObject({
  name: displayName().trim().min(1).max(64),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length),
}) satisfies z.ZodType<P.CreateApiKeyRequest>;

/** `POST /api/server/users/:id/ban`; no body (or no `minutes`) bans without end. */
export const serverBanSchema = z
  .strictObject({ minutes: z.number().int().min(1).max(MAX_MINUTES).optional() })
  .optional()
  .transform((body) => body ?? {}) satisfies z.ZodType<P.ServerBanRequest>;

/** `GET /api/server/rooms/:id/presence`. */
export const presenceQuerySchema = z.object({
  cursor: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** A message's content (also what a before-publish hook's replacement must be). */
export function messageContentSchema(maxMessageLength: number) {
  // NUL refused up front, or a stored batch would fail whole.
  return text().min(1, 'must not be empty').max(maxMessageLength, `must be at most ${maxMessageLength} characters`);
}

/** Schemas whose limits come from the configuration. */
/** Replies (issue 14): a seq of the same room; seq is an int4 column, so a larger number could name no message. */
const replyToSeq = z.number().int().min(1).max(2_147_483_647);

export function contentSchemas(maxMessageLength: number) {
  const content = messageContentSchema(maxMessageLength);
  return {
    broadcast: z.strictObject({ content, roomId: uuid.optional() }) satisfies z.ZodType<P.BroadcastRequest>,
    send: z.object({ roomId: uuid, content, clientMsgId: uuid, replyToSeq: replyToSeq.optional() }) satisfies z.ZodType<P.SendMessageRequest>,
    edit: z.object({ messageId, content }) satisfies z.ZodType<P.EditMessageRequest>,
    serverPublish: z.strictObject({ userId: uuid.optional(), content, clientMsgId: uuid, replyToSeq: replyToSeq.optional() }) satisfies z.ZodType<P.ServerPublishRequest>,
  };
}

// ---------------------------------------------------------- socket payloads

export const roomRefSchema = z.object({ roomId: uuid }) satisfies z.ZodType<P.RoomRef>;
/** `room:join`: an old client sends only roomId; `afterChange` asks for the first page of changes after it. */
export const roomJoinSchema = z.object({ roomId: uuid, afterChange: changeNumber.optional() }) satisfies z.ZodType<P.RoomJoinRequest>;
export const changesRequestSchema = z.object({
  roomId: uuid,
  after: changeNumber,
  limit: changesLimit.default(DEFAULT_CHANGES_PAGE_SIZE),
}) satisfies z.ZodType<P.ChangesRequest>;
export const historyRequestSchema = z
  .object({
    roomId: uuid,
    afterSeq: z.number().int().min(0).optional(),
    beforeSeq: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(200).default(50),
  })
  .refine((q) => q.afterSeq === undefined || q.beforeSeq === undefined, {
    message: 'give afterSeq or beforeSeq, not both',
  }) satisfies z.ZodType<P.HistoryRequest>;
export const deleteMessageSchema = z.object({ messageId }) satisfies z.ZodType<P.DeleteMessageRequest>;
export const reactionSchema = z.object({ messageId, emoji: reactionEmoji() }) satisfies z.ZodType<P.ReactionRequest>;
export const typingSchema = z.object({ roomId: uuid, typing: z.boolean() }) satisfies z.ZodType<P.TypingRequest>;
export const onlineRequestSchema = z.object({
  roomId: uuid,
  cursor: uuid.optional(),
  limit: z.number().int().min(1).max(500).default(100),
}) satisfies z.ZodType<P.OnlineRequest>;
export const authRefreshSchema = z.object({ token: text().min(1).max(4096) }) satisfies z.ZodType<P.AuthRefreshRequest>;
export const kickSchema = z.object({ userId: uuid, roomId: uuid, minutes: z.number().int().min(0).max(MAX_MINUTES).optional() }) satisfies z.ZodType<P.KickRequest>;
export const banSchema = z
  .object({ userId: uuid, banned: z.boolean(), minutes: z.number().int().min(1).max(MAX_MINUTES).optional() })
  .refine((b) => b.minutes === undefined || b.banned, { message: 'minutes goes with banned: true', path: ['minutes'] }) satisfies z.ZodType<P.BanRequest>;
export const muteSchema = z.object({ userId: uuid, roomId: uuid, minutes: z.number().int().min(0).max(MAX_MINUTES) }) satisfies z.ZodType<P.MuteRequest>;
// admin:stats has nothing to say; an emit with only an ack is fine too.
export const statsSchema = z.object({}).nullish().transform((payload) => payload ?? {}) satisfies z.ZodType<Record<never, never>>;

// ---------------------------------------------------------- read state

/** A read position: an integer seq ≥ 0 (whether it is ≤ the room's lastSeq is the read-state rule's to say). */
const readSeq = z.number().int().min(0).max(2_147_483_647);
export const readRequestSchema = z.object({ roomId: uuid, seq: readSeq }) satisfies z.ZodType<P.ReadRequest>;
export const readBodySchema = z.strictObject({ seq: readSeq }) satisfies z.ZodType<P.ReadBody>;
/** `GET /api/rooms/:id/reads`: at most 200 readers a page (default 100), after `cursor` (a user id). */
/** GET /api/rooms/:id/members (issue 14): by userId, a page at a time. */
export const membersQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: uuid.optional(),
});

/** POST /api/dms (issue 14). */
export const openDirectSchema = z.strictObject({ userId: uuid }) satisfies z.ZodType<P.OpenDirectRequest>;

export const readsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: uuid.optional(),
});

/** Details of a failed validation, safe to send back. */
export function validationDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.slice(0, 10).map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

// Webhooks (docs/protocol.md "Webhooks").
export const createWebhookSchema = z.strictObject({
  url: text().max(2048).pipe(z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' })),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length * 2),
  secret: text().max(200).optional(),
}) satisfies z.ZodType<P.CreateWebhookRequest>;
export const rotateWebhookSecretSchema = z.strictObject({
  secret: text().max(200).optional(),
  graceSeconds: z.number().int().min(0).max(7 * 24 * 3600).optional(),
}) satisfies z.ZodType<P.RotateWebhookSecretRequest>;
export const webhookDeliveryParamsSchema = z.object({ id: uuid, deliveryId: uuid });
export const webhookDeliveriesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: uuid.optional(),
});
