/**
 * The Roomcast wire protocol (contract v1): every shape, event map and error
 * code that crosses the wire between a client and a server. This is the one
 * source of these types: the server imports them (through server/protocol.ts,
 * which adds the node-to-node types clients never see), the SDK builds on
 * them, and apps can import them from `@roomcast/client/protocol`.
 */

/** Every role, in one place: the server's schemas and the `Role` type are both built from it. */
export const ROLES = ['admin', 'member'] as const;
export type Role = (typeof ROLES)[number];
export type RoomVisibility = 'public' | 'private';
export type ClientMode = 'browser' | 'native';

/** A user; `email` is present only for the user themself and for admins. */
export interface User {
  id: string;
  username: string;
  email?: string;
  role: Role;
  banned: boolean;
  /** Addition: when a timed ban ends (it then lifts by itself); null for a ban without end, or no ban. */
  bannedUntil?: string | null;
  createdAt: string;
}

/**
 * A room as the wire carries it. Named `RoomInfo` so it does not clash with
 * the SDK's `Room` class (the handle of a joined room).
 */
export interface RoomInfo {
  id: string;
  name: string;
  visibility: RoomVisibility;
  readOnly: boolean;
  archived: boolean;
  lastSeq: number;
  /** Addition (read state): whether the room sends `read:receipt` events; off by default, switched with PATCH /api/rooms/:id. */
  readReceipts: boolean;
  /** Addition (retention): the room's retention in days (0: for ever); null: the server's default. */
  retentionDays?: number | null;
  /** Addition (retention): the first seq the room still holds; lower seqs were deleted (a cut, not a gap). */
  oldestSeq?: number;
  createdAt: string;
  joined?: boolean;
  /** Addition (read state): the caller's last-read seq (0: nothing read); in `GET /api/rooms` and the `room:join` ack. */
  readSeq?: number;
  /**
   * Addition (read state): messages after `readSeq` not sent by the caller and
   * not deleted, at most UNREAD_COUNT_CAP (it saturates there); 0 for a room
   * the caller never joined nor read. In `GET /api/rooms`.
   */
  unreadCount?: number;
  /**
   * Addition (mentions): messages after `readSeq` that mention the caller and
   * are not deleted, at most MENTION_COUNT_CAP (it saturates there). In `GET /api/rooms`.
   */
  mentionCount?: number;
  /**
   * Addition (issue 14): on a direct room only, the other user of the pair
   * as the caller sees it (`GET /api/rooms`, `GET /api/rooms/:id`,
   * `POST /api/dms`). A direct room is private with exactly those two members.
   */
  dm?: DirectPeer;
}

/** Addition (issue 14): the other user of a direct room. */
export interface DirectPeer {
  userId: string;
  username: string;
}

/** @deprecated Use `RoomInfo` (the SDK's `Room` is the joined-room handle); kept so existing imports keep compiling. */
export type Room = RoomInfo;

/** Addition (retention): the most days a `retentionDays` may say. */
export const MAX_RETENTION_DAYS = 36_500;

/** Message content length a server accepts unless configured otherwise (`MAX_MESSAGE_LENGTH`). */
export const DEFAULT_MAX_MESSAGE_LENGTH = 4000;

export interface Message {
  /** Decimal string: message ids come from a BIGSERIAL. */
  id: string;
  roomId: string;
  /** Per-room sequence number: starts at 1, grows by exactly 1, no gaps. */
  seq: number;
  userId: string;
  username: string;
  content: string;
  clientMsgId: string;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
  /**
   * Addition (change log): the room's change number of this message's latest
   * change (its creation, its last edit or its deletion). Per room, unique
   * among messages, and what catch-up (`afterChange`, `GET /api/rooms/:id/changes`) follows.
   */
  change: number;
  /**
   * Addition (mentions, issue 14): the ids of the room members its `@username`s
   * named, resolved when it was stored (at most MAX_MENTIONS; the author never);
   * `[]` when none, and for a deleted message.
   */
  mentions: string[];
  /** Addition (replies): the seq of the message of the same room this one replies to; null: not a reply. */
  replyToSeq: number | null;
  /** Addition (replies): how many messages reply to this one (deleted replies included: the thread shows their tombstones). */
  replyCount: number;
  /** Addition (replies): when the latest reply was stored; null: no reply yet. */
  lastReplyAt: string | null;
  /**
   * Addition (reactions): each emoji on the message with its count and whether
   * the user who asked reacted with it, in the order the emojis were first
   * used; `[]` on a new or deleted message. Acks, history, change pages and
   * join catch-up compute `me` for the caller; the broadcast
   * `message:updated` carries `me: false` (one payload for the room: the SDK
   * fills in its user's). Reaction changes come as `message:reaction`.
   * Absent from servers without reactions.
   */
  reactions?: Reaction[];
}

/** Addition (reactions): one emoji on a message, as seen by one user. */
export interface Reaction {
  /** One emoji grapheme (👍, 🇫🇷) or a `:name:` (docs/protocol.md "Reactions"). */
  emoji: string;
  count: number;
  /** Whether the user this was computed for reacted with it (false for the server API). */
  me: boolean;
}

/** Addition (reactions): an emoji's count in a broadcast, the same for every receiver. */
export type ReactionCount = Omit<Reaction, 'me'>;

/** Every error code, with its REST status: the contract's codes plus the additions docs/protocol.md lists. */
export const ERROR_STATUS = {
  validation_failed: 400,
  unauthorized: 401,
  token_expired: 401,
  invalid_credentials: 401,
  refresh_reused: 401,
  forbidden: 403,
  banned: 403,
  registration_closed: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  read_only: 403,
  muted: 403,
  /** Addition (issue 15): the app's before-publish hook refused the message; its reason, if any, in `details.reason`. */
  rejected: 422,
  /** Addition (retention): a change-log catch-up from before what retention kept; `details` `{oldestSeq, lastChange}`. */
  changes_expired: 410,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** REST error body. */
export interface ErrorResponse {
  error: ErrorBody;
}

export type AckSuccess<T extends object> = { ok: true } & T;
export interface AckFailure {
  ok: false;
  error: ErrorBody;
}
/** The answer to every client-to-server socket event. */
export type Ack<T extends object = Record<never, never>> = AckSuccess<T> | AckFailure;
export type AckCallback<T extends object = Record<never, never>> = (ack: Ack<T>) => void;

// ---------------------------------------------------------------- REST bodies

export interface RegisterRequest {
  username: string;
  email: string;
  password: string;
  client?: 'native';
}

export interface LoginRequest {
  login: string;
  password: string;
  client?: 'native';
}

export interface AuthResponse {
  user: User;
  accessToken: string;
  expiresIn: number;
  /** Only in native mode. */
  refreshToken?: string;
}

export interface RefreshRequest {
  refreshToken?: string;
}

export interface RefreshResponse {
  accessToken: string;
  expiresIn: number;
  /** Only in native mode. */
  refreshToken?: string;
}

export interface CreateRoomRequest {
  name: string;
  visibility?: RoomVisibility;
  readOnly?: boolean;
}

export interface UpdateRoomRequest {
  name?: string;
  readOnly?: boolean;
  archived?: boolean;
  /** Addition (read state): turns the room's `read:receipt` events on or off. */
  readReceipts?: boolean;
  /** Addition (retention): days kept, 0-36500 (0: for ever; null: the server's default). */
  retentionDays?: number | null;
}

export interface AddMemberRequest {
  userId: string;
}

/** `GET /api/rooms/:id`, `POST /api/rooms`, `PATCH /api/rooms/:id`. */
export interface RoomResponse {
  room: RoomInfo;
}

/** `GET /api/rooms`. */
export interface RoomsResponse {
  rooms: RoomInfo[];
}

/** `GET /api/rooms`: one page, newest first; `nextCursor` (null on the last page) asks for the next. */
export interface RoomsPage extends RoomsResponse {
  nextCursor: string | null;
}

/** `GET /api/rooms` query: `q` matches names (case-insensitive substring), `limit` 1-200 (default 100). */
export interface RoomListQuery {
  q?: string;
  limit?: number;
  cursor?: string;
}

/** `GET /api/me`, `PATCH /api/admin/users/:id`. */
export interface UserResponse {
  user: User;
}

export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit?: number;
}

export interface HistoryPage {
  messages: Message[];
  hasMore: boolean;
  /** Addition (retention): the room's first kept seq, read after the page; a page starting there met a cut, not a gap. */
  oldestSeq?: number;
}

/** Addition: `GET /api/rooms/:id/changes` query; `after` integer ≥ 0 (default 0), `limit` 1-500 (default 200). */
export interface ChangesQuery {
  after?: number;
  limit?: number;
}

/** Page size of a change-log page when the client names none (also the first page of `room:join` with `afterChange`). */
export const DEFAULT_CHANGES_PAGE_SIZE = 200;
/** Largest change-log page a client may ask for. */
export const MAX_CHANGES_PAGE_SIZE = 500;

/**
 * Addition: one page of a room's change log. `changes` is the CURRENT state
 * of every message whose latest change is after the asked number, ordered by
 * `change` ascending (a deleted message as its tombstone, as history shows it);
 * `hasMore`: more after this page (ask again with `after` = the last row's
 * `change`); `lastChange`: the room's change number when the page was read.
 */
export interface ChangesPage {
  changes: Message[];
  hasMore: boolean;
  lastChange: number;
  /**
   * Addition (issue 14): the membership changes of the page's window, in
   * change order. `changes` and `members` together hold at most `limit`
   * entries, all the room's changes after `after` up to the highest `change`
   * among them (or `lastChange` when `hasMore` is false). Page on with
   * `after` = the highest `change` of both arrays. Left out by servers
   * before issue 14.
   */
  members?: MemberChange[];
}

/** Addition (issue 14): a membership change of a room, numbered from the room's change counter. */
export interface MemberChange {
  roomId: string;
  userId: string;
  username: string;
  kind: 'joined' | 'left';
  change: number;
  /** When the change committed. */
  at: string;
}

/**
 * Addition (issue 14): a membership change as the SDK hands it out (room
 * events `memberJoined` / `memberLeft`): from a live event (no `at`) or a
 * catch-up page (with `at`).
 */
export type MemberUpdate = Omit<MemberChange, 'at'> & { at?: string };

/** Addition (issue 14): `member:joined` / `member:left`, to the room's sockets in change order. */
export interface MemberEvent {
  roomId: string;
  userId: string;
  username: string;
  change: number;
}

/** Addition (issue 14): `POST /api/dms`. */
export interface OpenDirectRequest {
  userId: string;
}

/** Addition (issue 14): `POST /api/rooms/:id/members` (the contract's `{userId}`). */
export interface InviteMemberRequest {
  userId: string;
}

/** Addition (issue 14): one member of a room, in `GET /api/rooms/:id/members`. */
export interface RoomMember {
  userId: string;
  username: string;
  /** Whether the user has a /chat socket in the room now, on any node. */
  online: boolean;
  /** The room's creator (who may invite and remove members, with admins). */
  owner: boolean;
}

/** Addition (issue 14): a page of `GET /api/rooms/:id/members`, by userId; `nextCursor` null on the last page. */
export interface MembersPage {
  members: RoomMember[];
  nextCursor: string | null;
}

export interface UpdateUserRequest {
  role?: Role;
  banned?: boolean;
  /** Addition: with `banned: true`, the (future) time the ban lifts by itself; left out, the ban has no end. */
  bannedUntil?: string;
}

export interface BroadcastRequest {
  content: string;
  roomId?: string;
}

export type AuditAction =
  | 'broadcast'
  | 'kick'
  | 'ban'
  | 'unban'
  | 'mute'
  | 'role_change'
  | 'message_delete'
  /** Extension: an admin's edit that a member could not have made (another's message, or past a room rule). */
  | 'message_edit'
  | 'room_update'
  | 'member_add'
  | 'member_remove'
  /** Extensions (issue 15, server API): keys made and revoked by admins, and what a key's calls did. */
  | 'api_key_create'
  | 'api_key_revoke'
  | 'room_create'
  | 'message_publish'
  | 'sessions_end'
  | 'presence_read'
  | 'history_read'
  | 'changes_read'
  /** Additions (issue 15): webhook endpoints registered and removed, deliveries replayed. */
  | 'webhook_create'
  | 'webhook_delete'
  | 'webhook_replay'
  | 'webhook_rotate';

export interface AuditEntry {
  id: string;
  actorId: string | null;
  action: AuditAction;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
  createdAt: string;
}

// ------------------------------------------------------- server API (issue 15)

/** What a server API key may do; each `/api/server/` route needs one of them. */
export const API_KEY_SCOPES = ['publish', 'rooms', 'users', 'presence', 'history'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** `POST /api/admin/api-keys`. */
export interface CreateApiKeyRequest {
  name: string;
  scopes: ApiKeyScope[];
}

/** A server API key as `GET /api/admin/api-keys` lists it: never the key itself. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  /** Updated at most once a minute per key; null until first used. */
  lastUsedAt: string | null;
}

/** `POST /api/admin/api-keys` answer: the only time `key` is shown. */
export interface CreatedApiKey extends ApiKeyInfo {
  key: string;
}

export interface ApiKeysResponse {
  apiKeys: ApiKeyInfo[];
}

/** `POST /api/server/rooms/:id/messages`: as `userId`, or as the system user when it is absent. */
export interface ServerPublishRequest {
  userId?: string;
  content: string;
  clientMsgId: string;
  /** Addition (replies): the seq of the message of this room to reply to, as `message:send`'s. */
  replyToSeq?: number;
}

/** `POST /api/server/users/:id/ban`: `minutes` makes the ban lift by itself. */
export interface ServerBanRequest {
  minutes?: number;
}

/** `GET /api/server/rooms/:id/presence`: one page of the room's online users and how many are online. */
export interface ServerPresencePage extends OnlinePage {
  count: number;
}

/**
 * The user a server API publish without `userId` is sent as (`Message.userId`
 * / `username` of system messages). Created on first use; it cannot log in.
 */
export const SYSTEM_USER_ID = '00000000-0000-4000-8000-000000000000';
export const SYSTEM_USERNAME = '@system';

export interface UsersPage {
  users: User[];
  nextCursor: string | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}

// ------------------------------------------------------------ read state
// (additions: docs/protocol.md, "Read state")

/** Where `unreadCount` saturates: the server counts at most this many unread messages per room. */
export const UNREAD_COUNT_CAP = 1000;

/** `room:read` and `PUT /api/rooms/:id/read` (roomId from the path): the user has read up to `seq` (0..lastSeq). */
export interface ReadRequest {
  roomId: string;
  seq: number;
}

/** `PUT /api/rooms/:id/read` body. */
export interface ReadBody {
  seq: number;
}

/** Answer to `room:read` / `PUT /api/rooms/:id/read`: the stored read seq after the call (never lower than before). */
export interface ReadResult {
  readSeq: number;
}

/** `read:updated`: the user's read seq of a room moved (sent to their other sockets, on every node). */
export interface ReadUpdatedEvent {
  roomId: string;
  readSeq: number;
}

// ------------------------------------------------------------ mentions
// (additions: docs/protocol.md, "Mentions")

/** Where `mentionCount` saturates, as `unreadCount` does. */
export const MENTION_COUNT_CAP = 1000;

/** At most this many distinct `@username`s of one message are looked up; the rest are plain text. */
export const MAX_MENTIONS = 20;

/** `mention`: a new message of `roomId` mentions the user (to every socket of theirs, on every node). */
export interface MentionEvent {
  roomId: string;
  seq: number;
  messageId: string;
}

/** `read:receipt`: a user read a room up to `readSeq` (rooms with `readReceipts` on; at most one per user per room per second). */
export interface ReadReceiptEvent {
  roomId: string;
  userId: string;
  readSeq: number;
}

/** One member's read position (`GET /api/rooms/:id/reads`). */
export interface RoomRead {
  userId: string;
  username: string;
  readSeq: number;
}

/** `GET /api/rooms/:id/reads?limit=&cursor=`: members' read seqs by userId; `nextCursor` (null: last page) asks for the next. */
export interface RoomReadsPage {
  reads: RoomRead[];
  nextCursor: string | null;
}

/**
 * Addition: the event types a webhook endpoint can subscribe to (docs/protocol.md, "Webhooks").
 * `message.reaction` (issue 14's reactions) carries a ReactionWebhookData; a reply is a
 * `message.created` whose data has `replyToSeq`.
 */
export const WEBHOOK_EVENT_TYPES = ['message.created', 'message.updated', 'message.deleted', 'message.reaction', 'member.joined', 'member.left', 'user.banned', 'room.created'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Addition: the `data` of a `message.reaction` webhook event (a reaction added or removed, committed with it). */
export interface ReactionWebhookData {
  roomId: string;
  messageId: string;
  seq: number;
  /** The reaction's change number in the room's change log. */
  change: number;
  emoji: string;
  userId: string;
  action: 'added' | 'removed';
  /** The message's reaction counts after the change (no `me`: the event is nobody's view). */
  reactions: ReactionCount[];
}

/** Addition: POST /api/admin/webhooks. */
export interface CreateWebhookRequest {
  url: string;
  events: WebhookEventType[];
  /** A Standard Webhooks secret (`whsec_` + base64 of 24-64 bytes); left out, the server makes one. */
  secret?: string;
}

/** Addition: POST /api/admin/webhooks/:id/rotate-secret. */
export interface RotateWebhookSecretRequest {
  /** The new `whsec_` secret; left out, the server makes one. */
  secret?: string;
  /** Seconds the old secret goes on signing too (0-604800; default 86400). */
  graceSeconds?: number;
}

/** Addition: a registered webhook endpoint (the secret is shown to admins, for verification). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: WebhookEventType[];
  secret: string;
  createdAt: string;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** Addition: one event's delivery to one endpoint; `id` is the `webhook-id` header. */
export interface WebhookDelivery {
  id: string;
  type: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** HTTP status of the last attempt; null if it got none (refused, timeout, connection error). */
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  /** The signed body's `data`. */
  data: unknown;
}

export interface WebhookDeliveryPage {
  deliveries: WebhookDelivery[];
  nextCursor: string | null;
}

// ------------------------------------------------------------ socket payloads

export interface RoomRef {
  roomId: string;
}

export interface OnlineUser {
  userId: string;
  username: string;
}

/** `room:join`: `afterChange` (addition, integer ≥ 0) asks for the first page of the room's changes after it. */
export interface RoomJoinRequest {
  roomId: string;
  afterChange?: number;
}

export interface JoinResult {
  room: RoomInfo;
  /** The first users online in the room (at most the server's JOIN_ONLINE_LIST_LIMIT, by userId); page on with `room:online`. */
  online: OnlineUser[];
  /** How many users are online in the room (all of them, not only those listed). */
  onlineCount: number;
  /** Addition: the room's change number as of the join; the live stream to this socket continues after it. */
  lastChange: number;
  /** Addition, only when `afterChange` was given: the first page of the room's changes after it (see `ChangesPage`). */
  changes?: Message[];
  /** Addition, only when `afterChange` was given: more changes follow the first page (page on with `room:changes` or REST). */
  hasMore?: boolean;
  /** Addition (issue 14), only when `afterChange` was given and the first page holds membership changes (see `ChangesPage.members`). */
  members?: MemberChange[];
  /** Addition (retention): `afterChange` is from before what retention kept; no `changes` then: refetch history. */
  changesExpired?: boolean;
}

/** Addition: `room:changes`, the socket form of `GET /api/rooms/:id/changes`. */
export interface ChangesRequest {
  roomId: string;
  after: number;
  /** 1-500, default 200. */
  limit?: number;
}

/** `room:online`: the next page of a joined room's online users, ordered by userId. */
export interface OnlineRequest {
  roomId: string;
  /** The previous page's `nextCursor`; absent for the first page. */
  cursor?: string;
  /** 1-500, default 100. */
  limit?: number;
}

export interface OnlinePage {
  online: OnlineUser[];
  /** Pass it back for the next page; null when this page was the last. */
  nextCursor: string | null;
}

export interface HistoryRequest extends HistoryQuery {
  roomId: string;
}

export interface SendMessageRequest {
  roomId: string;
  content: string;
  clientMsgId: string;
  /** Addition (replies): the seq of the message of this room to reply to (it must exist and not be deleted; `not_found` otherwise). */
  replyToSeq?: number;
}

export interface MessageResult {
  message: Message;
}

export interface EditMessageRequest {
  messageId: string;
  content: string;
}

export interface DeleteMessageRequest {
  messageId: string;
}

/** Addition (reactions): `message:react` / `message:unreact`. */
export interface ReactionRequest {
  messageId: string;
  emoji: string;
}

/**
 * Addition (reactions): to the message's room, in change order with its other
 * changes, when a reaction was added or removed. `reactions` are the counts
 * after the change (no `me`: one payload goes to the whole room; a client
 * keeps its own `me` from `userId`/`added`).
 */
export interface MessageReactionEvent {
  roomId: string;
  messageId: string;
  seq: number;
  /** The reaction's change number (the message's latest change). */
  change: number;
  emoji: string;
  userId: string;
  /** true: `userId` added `emoji`; false: removed it. */
  added: boolean;
  reactions: ReactionCount[];
}

export interface TypingRequest {
  roomId: string;
  typing: boolean;
}

/** The `typing` ack: `dropped` is set when the event was not passed on (over the rate limit, or `typing: false` while not typing). */
export interface TypingResult {
  dropped?: true;
}

export interface AuthRefreshRequest {
  token: string;
}

export interface AuthRefreshResult {
  expiresIn: number;
}

export interface MessageDeletedEvent {
  id: string;
  roomId: string;
  seq: number;
  /** Addition: the change number of the deletion (the message's latest change). */
  change: number;
}

export interface TypingEvent {
  roomId: string;
  userId: string;
  username: string;
  typing: boolean;
}

export interface PresenceEvent {
  roomId: string;
  userId: string;
  username: string;
  online: boolean;
}

/** Presence changes of a big room, coalesced: sent instead of single `presence` events once the room has more online users than the server's PRESENCE_BATCH_THRESHOLD. */
export interface PresenceBatchEvent {
  roomId: string;
  joined: OnlineUser[];
  left: OnlineUser[];
}

export interface SystemBroadcastEvent {
  content: string;
  roomId: string | null;
  createdAt: string;
}

/** Why the server ended a login's sockets (`session:revoked`). */
export const REVOKE_REASONS = ['banned', 'role_changed', 'kicked', 'logout'] as const;
export type RevokeReason = (typeof REVOKE_REASONS)[number];

export interface SessionRevokedEvent {
  reason: RevokeReason;
}

/** Sent (best effort) just before the server disconnects a socket whose client stopped reading. */
export interface SlowConsumerEvent {
  /** The server's bound on bytes held for one socket (`MAX_SOCKET_BUFFER_BYTES`). */
  limitBytes: number;
}

/** Payload of `server:draining`: the node is shutting down. */
export interface ServerDrainingEvent {
  /** The node closes this connection at the latest this many ms from now: reconnect (elsewhere) before. */
  closeInMs: number;
}

/** `room:kicked`: an admin took this user out of the room; `until` is when they may join again (null: at once). */
export interface RoomKickedEvent {
  roomId: string;
  until: string | null;
}

/** `room:muted`: this user's mute in the room changed; `until` is when it ends (null: lifted). */
export interface RoomMutedEvent {
  roomId: string;
  until: string | null;
}

export interface KickRequest {
  userId: string;
  roomId: string;
  /** Addition: how long the user may not rejoin (or send to) the room; 0 only removes; left out, the server's KICK_BLOCK_SECONDS. */
  minutes?: number;
}

export interface BanRequest {
  userId: string;
  banned: boolean;
  /** Addition: with `banned: true`, the ban lifts by itself after this many minutes; left out, it has no end. */
  minutes?: number;
}

export interface MuteRequest {
  userId: string;
  roomId: string;
  minutes: number;
}

export interface BroadcastResult {
  delivered: number;
}

export interface NodeStats {
  id: string;
  sockets: number;
  rooms: number;
  rssBytes: number;
}

export interface StatsResult {
  nodes: NodeStats[];
  sockets: number;
  users: number;
}

// ----------------------------------------------------------------- event maps

/** An ack with no data, and event payloads with no fields. */
export type Empty = Record<never, never>;

/** Namespace `/chat`: what a client may emit. */
export interface ChatClientToServerEvents {
  'room:join': (payload: RoomJoinRequest, ack: AckCallback<JoinResult>) => void;
  'room:leave': (payload: RoomRef, ack: AckCallback<Empty>) => void;
  'room:history': (payload: HistoryRequest, ack: AckCallback<HistoryPage>) => void;
  'message:send': (payload: SendMessageRequest, ack: AckCallback<MessageResult>) => void;
  'message:edit': (payload: EditMessageRequest, ack: AckCallback<MessageResult>) => void;
  'message:delete': (payload: DeleteMessageRequest, ack: AckCallback<Empty>) => void;
  typing: (payload: TypingRequest, ack: AckCallback<TypingResult>) => void;
  'room:online': (payload: OnlineRequest, ack: AckCallback<OnlinePage>) => void;
  'auth:refresh': (payload: AuthRefreshRequest, ack: AckCallback<AuthRefreshResult>) => void;
  /** Addition: a page of the room's change log (same rule as `room:history`). */
  'room:changes': (payload: ChangesRequest, ack: AckCallback<ChangesPage>) => void;
  /** Addition (read state): sets the user's last-read seq of a room (monotonic). */
  'room:read': (payload: ReadRequest, ack: AckCallback<ReadResult>) => void;
  /** Addition (reactions): adds the user's `emoji` to a message (already there: no change); acks the message with the caller's `reactions`. */
  'message:react': (payload: ReactionRequest, ack: AckCallback<MessageResult>) => void;
  /** Addition (reactions): removes the user's `emoji` from a message (not there: no change). */
  'message:unreact': (payload: ReactionRequest, ack: AckCallback<MessageResult>) => void;
}

/** Namespace `/chat`: what the server emits. */
export interface ChatServerToClientEvents {
  'message:new': (message: Message) => void;
  'message:updated': (message: Message) => void;
  'message:deleted': (event: MessageDeletedEvent) => void;
  typing: (event: TypingEvent) => void;
  presence: (event: PresenceEvent) => void;
  'presence:batch': (event: PresenceBatchEvent) => void;
  'room:updated': (room: RoomInfo) => void;
  'system:broadcast': (event: SystemBroadcastEvent) => void;
  'session:expired': (event: Empty) => void;
  'session:revoked': (event: SessionRevokedEvent) => void;
  'session:slow_consumer': (event: SlowConsumerEvent) => void;
  'server:draining': (event: ServerDrainingEvent) => void;
  /** Addition: to the kicked user's sockets that were in the room, on every node, just before they leave it. */
  'room:kicked': (event: RoomKickedEvent) => void;
  /** Addition: to every socket of the muted user, on every node, when a mute is set or lifted. */
  'room:muted': (event: RoomMutedEvent) => void;
  /** Addition (read state): to the user's other sockets, on every node, when their read seq of a room moved. */
  'read:updated': (event: ReadUpdatedEvent) => void;
  /** Addition (mentions): to every socket of a mentioned user, on every node, when the message is delivered. */
  mention: (event: MentionEvent) => void;
  /** Addition (read state): to a room with `readReceipts` on, throttled per user (one a second, the last value wins). */
  'read:receipt': (event: ReadReceiptEvent) => void;
  /** Addition (reactions): a reaction was added to or removed from a message of a joined room, in change order. */
  'message:reaction': (event: MessageReactionEvent) => void;
  /** Addition (issue 14): a user became a member of the room; in change order with the room's messages. */
  'member:joined': (event: MemberEvent) => void;
  /** Addition (issue 14): a member left the room or was removed; in change order with the room's messages. */
  'member:left': (event: MemberEvent) => void;
}

/** Namespace `/admin` (admins only): what a client may emit. */
export interface AdminClientToServerEvents {
  'admin:broadcast': (payload: BroadcastRequest, ack: AckCallback<BroadcastResult>) => void;
  'admin:kick': (payload: KickRequest, ack: AckCallback<Empty>) => void;
  'admin:ban': (payload: BanRequest, ack: AckCallback<Empty>) => void;
  'admin:mute': (payload: MuteRequest, ack: AckCallback<Empty>) => void;
  'admin:stats': (payload: Empty, ack: AckCallback<StatsResult>) => void;
}

/** Namespace `/admin`: what the server emits (the same session and draining events as /chat). */
export interface AdminServerToClientEvents {
  'session:expired': (event: Empty) => void;
  'session:revoked': (event: SessionRevokedEvent) => void;
  'server:draining': (event: ServerDrainingEvent) => void;
}
