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
  createdAt: string;
  joined?: boolean;
}

/** @deprecated Use `RoomInfo` (the SDK's `Room` is the joined-room handle); kept so existing imports keep compiling. */
export type Room = RoomInfo;

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
}

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

export interface UsersPage {
  users: User[];
  nextCursor: string | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}

/** Addition: the event types a webhook endpoint can subscribe to (docs/protocol.md, "Webhooks"). */
export const WEBHOOK_EVENT_TYPES = ['message.created', 'message.updated', 'message.deleted', 'member.joined', 'member.left', 'user.banned', 'room.created'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

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

export interface JoinResult {
  room: RoomInfo;
  /** The first users online in the room (at most the server's JOIN_ONLINE_LIST_LIMIT, by userId); page on with `room:online`. */
  online: OnlineUser[];
  /** How many users are online in the room (all of them, not only those listed). */
  onlineCount: number;
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
  'room:join': (payload: RoomRef, ack: AckCallback<JoinResult>) => void;
  'room:leave': (payload: RoomRef, ack: AckCallback<Empty>) => void;
  'room:history': (payload: HistoryRequest, ack: AckCallback<HistoryPage>) => void;
  'message:send': (payload: SendMessageRequest, ack: AckCallback<MessageResult>) => void;
  'message:edit': (payload: EditMessageRequest, ack: AckCallback<MessageResult>) => void;
  'message:delete': (payload: DeleteMessageRequest, ack: AckCallback<Empty>) => void;
  typing: (payload: TypingRequest, ack: AckCallback<TypingResult>) => void;
  'room:online': (payload: OnlineRequest, ack: AckCallback<OnlinePage>) => void;
  'auth:refresh': (payload: AuthRefreshRequest, ack: AckCallback<AuthRefreshResult>) => void;
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
