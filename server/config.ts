import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { ACCESS_TOKEN_ALGORITHMS, AccessTokenKeyError, accessTokenKeys, type AccessTokenKeys } from './access-token-keys.js';
import { ExternalIdentityConfigError, externalIdentityConfig, type ExternalIdentityConfig } from './external-identity-config.js';
import { DEFAULT_MAX_MESSAGE_LENGTH, MAX_RETENTION_DAYS } from './protocol.js';

const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

const integer = (min: number, fallback: number) =>
  z.coerce.number().int().min(min).default(fallback);

const postgresUrl = z
  .string()
  .refine((value) => value === 'memory' || /^postgres(ql)?:\/\//.test(value), {
    message: 'must be a postgres:// URL or "memory"',
  });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: integer(0, 3000).refine((port) => port <= 65535, 'must be a port number'),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  // Extension (issue 19): the seed nodes of a Redis Cluster, comma-separated
  // `host:port` or `redis(s)://` URLs (credentials and TLS go in the URL of
  // each). Instead of REDIS_URL, never with it: see docs/operations.md.
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((list, ctx) => {
      const nodes = list.split(',').map((n) => n.trim()).filter(Boolean).map(clusterNodeUrl);
      if (nodes.length === 0 || nodes.some((n) => n === null)) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of host:port or redis:// URLs' });
        return z.NEVER;
      }
      return nodes as string[];
    })
    .optional(),
  // Extension (not in the contract): namespaces every Redis key and channel, so
  // several clusters (or test runs) can share one Redis.
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . : -')
    .default('roomcast'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // Extensions (not in the contract): access tokens signed with a key pair
  // whose public keys are published at /.well-known/jwks.json, see docs/security.md.
  JWT_ALGORITHM: z.enum(ACCESS_TOKEN_ALGORITHMS).default('HS256'),
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_KEY_ID: z.string().optional(),
  JWT_PREVIOUS_PUBLIC_KEYS: z.string().optional(),
  // The app's own identity provider (see docs/embedding.md): tokens it issues
  // sign users in, mapped per (issuer, sub) to Roomcast users.
  AUTH_JWKS_URL: z.string().optional(),
  AUTH_JWT_ISSUER: z.string().optional(),
  AUTH_JWT_AUDIENCE: z.string().optional(),
  AUTH_JWT_PUBLIC_KEY: z.string().optional(),
  AUTH_JWT_SECRET: z.string().optional(),
  AUTH_USERNAME_CLAIM: z.string().min(1).default('preferred_username'),
  AUTH_ROLE_CLAIM: z.string().optional(),
  AUTH_JWKS_TIMEOUT_MS: integer(100, 3_000),
  AUTH_JWKS_COOLDOWN_MS: integer(0, 30_000),
  AUTH_JWKS_CACHE_MS: integer(1_000, 600_000),
  BUILTIN_AUTH: z.enum(['on', 'off']).default('on'),
  CORS_ORIGINS: z.string().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  ACCESS_TOKEN_TTL: integer(1, 15 * 60),
  REFRESH_TOKEN_TTL: integer(1, 7 * 24 * 3600),
  REGISTRATION: z.enum(['open', 'closed']).default('open'),
  MESSAGE_RATE_LIMIT: integer(0, 20),
  MESSAGE_RATE_WINDOW: integer(1, 10),
  LOGIN_FAILURE_LIMIT: integer(0, 10),
  LOGIN_FAILURE_WINDOW: integer(1, 900),
  // Extension (not in the contract): bcrypt's cost (log2 of its rounds) for new
  // password hashes; a stored hash keeps the cost it was made with.
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(10),
  // Extensions (not in the contract), see docs/security.md: sign-ups per
  // client IP and in all per window, and token refreshes per client IP.
  REGISTRATION_RATE_LIMIT: integer(0, 10),
  REGISTRATION_RATE_WINDOW: integer(1, 600),
  REGISTRATION_GLOBAL_RATE_LIMIT: integer(0, 300),
  REFRESH_RATE_LIMIT: integer(0, 60),
  REFRESH_RATE_WINDOW: integer(1, 60),
  // Extensions (not in the contract), see docs/security.md "Writes and
  // moderation": message edits and room joins per user, changes per admin.
  EDIT_RATE_LIMIT: integer(0, 30),
  EDIT_RATE_WINDOW: integer(1, 60),
  JOIN_RATE_LIMIT: integer(0, 600),
  JOIN_RATE_WINDOW: integer(1, 60),
  ADMIN_ACTION_RATE_LIMIT: integer(0, 300),
  ADMIN_ACTION_RATE_WINDOW: integer(1, 60),
  MAX_MESSAGE_LENGTH: integer(1, DEFAULT_MAX_MESSAGE_LENGTH),
  MAX_PACKET_BYTES: integer(1024, 65536),
  // Extensions (not in the contract): what one account can hold open.
  MAX_SOCKETS_PER_USER: integer(0, 20),
  MAX_ROOMS_PER_SOCKET: integer(0, 100),
  // Extensions (not in the contract): typing and presence stay bounded, see docs/operations.md.
  TYPING_RATE_LIMIT: integer(0, 10),
  TYPING_RATE_WINDOW: integer(1, 5),
  TYPING_TIMEOUT: integer(1, 6),
  JOIN_ONLINE_LIST_LIMIT: integer(1, 100),
  PRESENCE_BATCH_THRESHOLD: integer(0, 500),
  PRESENCE_BATCH_INTERVAL_MS: integer(50, 1000),
  // Extension (not in the contract): bytes a node holds for one socket that is not read.
  MAX_SOCKET_BUFFER_BYTES: integer(0, 8 * 1024 * 1024),
  // Extensions (not in the contract): moderation. How long a kick keeps its
  // user out of the room when admin:kick gives no `minutes` (0: it only
  // removes), and how often each node looks for timed bans that have ended.
  KICK_BLOCK_SECONDS: integer(0, 300),
  BAN_SWEEP_SECONDS: integer(1, 30),
  // Extensions (issue 19): retention, see docs/operations.md "Retention". Days
  // kept (0: for ever); a room's own retentionDays beats MESSAGE_RETENTION_DAYS.
  MESSAGE_RETENTION_DAYS: integer(0, 0).refine((days) => days <= MAX_RETENTION_DAYS, `must be at most ${MAX_RETENTION_DAYS} days`),
  AUDIT_RETENTION_DAYS: integer(0, 0).refine((days) => days <= MAX_RETENTION_DAYS, `must be at most ${MAX_RETENTION_DAYS} days`),
  RETENTION_INTERVAL_SECONDS: integer(1, 300),
  RETENTION_BATCH_SIZE: integer(1, 1000).refine((rows) => rows <= 100_000, 'must be at most 100000 rows'),
  // Extensions (not in the contract): what one account can create or read per
  // window, see docs/security.md. History allows a socket in MAX_ROOMS_PER_SOCKET
  // rooms to catch up every one of them after a reconnect.
  ROOM_CREATE_RATE_LIMIT: integer(0, 10),
  ROOM_CREATE_RATE_WINDOW: integer(1, 60),
  MEMBERSHIP_RATE_LIMIT: integer(0, 30),
  MEMBERSHIP_RATE_WINDOW: integer(1, 60),
  HISTORY_RATE_LIMIT: integer(0, 120),
  HISTORY_RATE_WINDOW: integer(1, 10),
  // Extensions (issue 15, server API): calls per API key per window, cluster-wide.
  API_KEY_RATE_LIMIT: integer(0, 600),
  API_KEY_RATE_WINDOW: integer(1, 60),
  // Read state: room:read and PUT /api/rooms/:id/read together, per user.
  READ_RATE_LIMIT: integer(0, 120),
  READ_RATE_WINDOW: integer(1, 10),
  // Reactions (issue 14): message:react and message:unreact together per user,
  // cluster-wide; distinct emojis one message may hold.
  REACTION_RATE_LIMIT: integer(0, 60),
  REACTION_RATE_WINDOW: integer(1, 10),
  MAX_REACTION_EMOJIS: integer(1, 20),
  NODE_ID: z.string().min(1).optional(),
  // Extension (issue 19): worker processes on this box (node:cluster), one
  // per core with `auto`; 1 (the default) is one process, no cluster code.
  // See docs/operations.md "All cores of one box".
  WORKERS: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(256)], { error: 'must be a whole number from 1 to 256, or auto' })
    .default(1),
  // Extension (not in the contract): the bearer token a Prometheus scraper
  // presents at GET /metrics. Unset, /metrics answers only direct loopback requests.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Extensions (not in the contract): the transport's own bounds, see docs/security.md.
  TRUST_PROXY: z.string().default('loopback'),
  HTTP_HEADERS_TIMEOUT_MS: integer(100, 10_000),
  HTTP_REQUEST_TIMEOUT_MS: integer(100, 30_000),
  MAX_CONNECTIONS_PER_IP: integer(0, 256),
  // Extension (not in the contract): how long a draining node gives its
  // clients to move before it closes their connections. At most 5 s, so the
  // grace, the writer's drain and the final flush fit the contract's 10 s.
  DRAIN_GRACE_MS: z.coerce.number().int().min(0).max(5_000).default(3_000),
  // Webhooks (issue 15, docs/operations.md "Webhooks"): outbound targets on
  // loopback/private/link-local addresses only when allowed; the retry
  // schedule (first retry after ~WEBHOOK_RETRY_BASE_MS, doubling up to
  // WEBHOOK_RETRY_MAX_MS, given up after WEBHOOK_RETRY_WINDOW_S); one
  // attempt's time; how often an idle dispatcher looks for work; how stale
  // a node's "which event types are subscribed" cache may be.
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.enum(['true', 'false']).default('false'),
  WEBHOOK_DISPATCH: z.enum(['on', 'off']).default('on'),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(5_000).default(2_000),
  WEBHOOK_RETRY_MAX_MS: integer(1_000, 3_600_000),
  WEBHOOK_RETRY_WINDOW_S: integer(1, 24 * 3600),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  WEBHOOK_SUBSCRIPTION_REFRESH_MS: z.coerce.number().int().min(100).max(5_000).default(1_000),
  // Days a delivered webhook stays listed before the dispatchers delete it (0: kept for ever).
  WEBHOOK_RETENTION_DAYS: integer(0, 7),
  // Before-publish hook (issue 15, docs/embedding.md "Before-publish hook"):
  // a URL asked about every message before it is committed; its time limit
  // (short: it adds to every send's ack); what a failed call means (open:
  // the message goes through; closed: the send answers `unavailable`); the
  // whsec_ secret its requests are signed with (required with a URL).
  BEFORE_PUBLISH_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  BEFORE_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(10).max(3_000).default(500),
  BEFORE_PUBLISH_FAIL: z.enum(['open', 'closed']).default('closed'),
  BEFORE_PUBLISH_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{32,86}={0,2}$/, 'must be a whsec_ secret (24-64 bytes, base64), as a webhook endpoint\'s')
    .optional(),
});

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  /** A postgres:// URL, or null for the embedded PGlite. */
  readonly databaseUrl: string | null;
  /** Embedded database folder, or null to keep it in memory. */
  readonly dataDir: string | null;
  readonly redisUrl: string | null;
  /** Seed nodes (as redis:// URLs) of a Redis Cluster, or null; never set together with redisUrl. */
  readonly redisClusterNodes: readonly string[] | null;
  /** Prefix of every Redis key and pub/sub channel of this cluster. */
  readonly redisKeyPrefix: string;
  /** JWT_SECRET; null when JWT_ALGORITHM is RS256 or EdDSA and none is set. */
  readonly jwtSecret: string | null;
  /** What access tokens are signed and verified with (from JWT_ALGORITHM, JWT_SECRET and the key variables). */
  readonly accessTokenKeys: AccessTokenKeys;
  /** The app's identity provider whose tokens are accepted too; null: none. */
  readonly externalIdentity: ExternalIdentityConfig | null;
  /** BUILTIN_AUTH: false refuses built-in sign-up, login and refresh (users come from externalIdentity). */
  readonly builtinAuth: boolean;
  /** Exact origins allowed; null means "the server's own origin". */
  readonly corsOrigins: readonly string[] | null;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly accessTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly registration: 'open' | 'closed';
  readonly messageRateLimit: number;
  readonly messageRateWindow: number;
  readonly loginFailureLimit: number;
  readonly loginFailureWindow: number;
  /** bcrypt cost of new password hashes (and of the dummy hash an unknown login is compared with). */
  readonly bcryptCost: number;
  /** Registrations per client IP per registrationRateWindow (0: off). */
  readonly registrationRateLimit: number;
  readonly registrationRateWindow: number;
  /** Registrations from all IPs together per registrationRateWindow (0: off). */
  readonly registrationGlobalRateLimit: number;
  /** POST /api/auth/refresh per client IP per refreshRateWindow (0: off). */
  readonly refreshRateLimit: number;
  readonly refreshRateWindow: number;
  /** message:edit per user per editRateWindow (0: off). */
  readonly editRateLimit: number;
  readonly editRateWindow: number;
  /** room:join per user per joinRateWindow (0: off). */
  readonly joinRateLimit: number;
  readonly joinRateWindow: number;
  /** AdminService changes (REST and /admin) per admin per adminActionRateWindow (0: off). */
  readonly adminActionRateLimit: number;
  readonly adminActionRateWindow: number;
  readonly maxMessageLength: number;
  readonly maxPacketBytes: number;
  /** Open /chat sockets per user (cluster-wide with Redis); 0: no cap. */
  readonly maxSocketsPerUser: number;
  /** Rooms one /chat socket may be in at once; 0: no cap. */
  readonly maxRoomsPerSocket: number;
  /** `typing` events passed on per socket per room in typingRateWindow seconds; 0: no limit. */
  readonly typingRateLimit: number;
  readonly typingRateWindow: number;
  /** Seconds after which a `typing: true` not renewed is ended with `typing: false`. */
  readonly typingTimeout: number;
  /** Online users listed in a `room:join` ack (the rest via `room:online`). */
  readonly joinOnlineListLimit: number;
  /** Above this many online users a room's presence changes go out as `presence:batch`; 0: never. */
  readonly presenceBatchThreshold: number;
  readonly presenceBatchIntervalMs: number;
  /** Unread bytes a node holds for one /chat socket before disconnecting it (slow consumer); 0: no bound. */
  readonly maxSocketBufferBytes: number;
  /** How long a kick without `minutes` keeps the user out of the room, seconds; 0: a kick only removes. */
  readonly kickBlockSeconds: number;
  /** How often each node lifts timed bans that have ended, seconds. */
  readonly banSweepSeconds: number;
  /** Retention (issue 19): days messages and audit entries are kept (0: for ever), how often a node tries to sweep, rows per delete. */
  readonly retention: { readonly messageDays: number; readonly auditDays: number; readonly intervalSeconds: number; readonly batchSize: number };
  /** Rooms one user may create per roomCreateRateWindow, cluster-wide (0: off). */
  readonly roomCreateRateLimit: number;
  readonly roomCreateRateWindow: number;
  /** Membership changes (invite, remove, leave, open a direct room) one user may make per membershipRateWindow, cluster-wide (0: off). */
  readonly membershipRateLimit: number;
  readonly membershipRateWindow: number;
  /** History reads (REST and room:history together) per user per historyRateWindow, cluster-wide (0: off). */
  readonly historyRateLimit: number;
  readonly historyRateWindow: number;
  /** Server API calls per API key per apiKeyRateWindow, cluster-wide (0: off). */
  readonly apiKeyRateLimit: number;
  readonly apiKeyRateWindow: number;
  /** Read-state writes (room:read and PUT /api/rooms/:id/read together) per user per readRateWindow, cluster-wide (0: off). */
  readonly readRateLimit: number;
  readonly readRateWindow: number;
  /** Reactions added or removed per user per reactionRateWindow, cluster-wide (0: off). */
  readonly reactionRateLimit: number;
  readonly reactionRateWindow: number;
  /** Distinct emojis one message may hold. */
  readonly maxReactionEmojis: number;
  readonly nodeId: string;
  /** Worker processes (WORKERS, `auto` resolved to the cores); 1: this process serves alone. */
  readonly workers: number;
  /** Bearer token for GET /metrics; null: loopback only. */
  readonly metricsToken: string | null;
  /** Proxies whose X-Forwarded-For is believed (proxy-addr names, IPs, CIDRs); empty: none. */
  readonly trustProxy: readonly string[];
  /** Time a client has to send a request's headers, ms. */
  readonly httpHeadersTimeoutMs: number;
  /** Time a client has to send a whole request (headers and body), ms. */
  readonly httpRequestTimeoutMs: number;
  /** Open connections one client address may hold (trusted proxies exempt); 0: no cap. */
  readonly maxConnectionsPerIp: number;
  /** ms between telling clients the node drains (`server:draining`) and closing their sockets; 0: close at once. */
  readonly drainGraceMs: number;
  readonly webhooks: WebhookConfig;
  /** The before-publish hook; null: none (sends go straight to the group commit). */
  readonly beforePublish: BeforePublishConfig | null;
}

/** BEFORE_PUBLISH_* (see envSchema's comment). */
export interface BeforePublishConfig {
  readonly url: string;
  readonly timeoutMs: number;
  /** `open`: a failed call lets the message through; `closed`: it refuses the send (`unavailable`). */
  readonly failMode: 'open' | 'closed';
  /** The whsec_ secret of the Standard Webhooks signature on each call. */
  readonly secret: string;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: the same address policy as webhooks. */
  readonly allowPrivateNetworks: boolean;
}

/** Webhook delivery settings (see envSchema's WEBHOOK_* comment). */
export interface WebhookConfig {
  /** Whether targets on loopback/private/link-local addresses are allowed (checked on the resolved address). */
  readonly allowPrivateNetworks: boolean;
  /** Whether this node runs a dispatcher (the outbox is written either way). */
  readonly dispatch: boolean;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly retryWindowSeconds: number;
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly subscriptionRefreshMs: number;
  /** Days a delivered delivery is kept; 0: for ever. Failed and pending ones are never pruned. */
  readonly retentionDays: number;
}

/** A bad configuration value; its message is the one line printed at start. */
export class ConfigError extends Error {}

/**
 * Reads and validates the configuration once. A bad value throws a
 * ConfigError naming the variable; the result is frozen.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(emptyToUndefined(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  const e = parsed.data;
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError('invalid configuration: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  }
  const inMemory = e.DATABASE_URL === 'memory';
  const databaseUrl = e.DATABASE_URL && !inMemory ? e.DATABASE_URL : null;
  const workers = e.WORKERS === 'auto' ? availableParallelism() : e.WORKERS;
  if (workers > 1) sharedStateForWorkers(workers, databaseUrl, Boolean(e.REDIS_URL || e.REDIS_CLUSTER_NODES));
  const dataDir = path.resolve(e.DATA_DIR);
  // Under RS256/EdDSA no secret is needed, so none is generated either.
  const jwtSecret = e.JWT_SECRET ?? (e.JWT_ALGORITHM === 'HS256' ? developmentSecret(e.NODE_ENV, dataDir) : null);
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl,
    dataDir: databaseUrl || inMemory ? null : dataDir,
    redisUrl: e.REDIS_URL ?? null,
    redisClusterNodes: e.REDIS_CLUSTER_NODES ? Object.freeze(e.REDIS_CLUSTER_NODES) : null,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    jwtSecret,
    accessTokenKeys: signingKeys(e, jwtSecret),
    ...identity(e),
    corsOrigins: e.CORS_ORIGINS ? Object.freeze(parseOrigins(e.CORS_ORIGINS)) : null,
    logLevel: e.LOG_LEVEL,
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    refreshTokenTtl: e.REFRESH_TOKEN_TTL,
    registration: e.REGISTRATION,
    messageRateLimit: e.MESSAGE_RATE_LIMIT,
    messageRateWindow: e.MESSAGE_RATE_WINDOW,
    loginFailureLimit: e.LOGIN_FAILURE_LIMIT,
    loginFailureWindow: e.LOGIN_FAILURE_WINDOW,
    bcryptCost: e.BCRYPT_COST,
    registrationRateLimit: e.REGISTRATION_RATE_LIMIT,
    registrationRateWindow: e.REGISTRATION_RATE_WINDOW,
    registrationGlobalRateLimit: e.REGISTRATION_GLOBAL_RATE_LIMIT,
    refreshRateLimit: e.REFRESH_RATE_LIMIT,
    refreshRateWindow: e.REFRESH_RATE_WINDOW,
    editRateLimit: e.EDIT_RATE_LIMIT,
    editRateWindow: e.EDIT_RATE_WINDOW,
    joinRateLimit: e.JOIN_RATE_LIMIT,
    joinRateWindow: e.JOIN_RATE_WINDOW,
    adminActionRateLimit: e.ADMIN_ACTION_RATE_LIMIT,
    adminActionRateWindow: e.ADMIN_ACTION_RATE_WINDOW,
    maxMessageLength: e.MAX_MESSAGE_LENGTH,
    maxPacketBytes: e.MAX_PACKET_BYTES,
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    maxRoomsPerSocket: e.MAX_ROOMS_PER_SOCKET,
    typingRateLimit: e.TYPING_RATE_LIMIT,
    typingRateWindow: e.TYPING_RATE_WINDOW,
    typingTimeout: e.TYPING_TIMEOUT,
    joinOnlineListLimit: e.JOIN_ONLINE_LIST_LIMIT,
    presenceBatchThreshold: e.PRESENCE_BATCH_THRESHOLD,
    presenceBatchIntervalMs: e.PRESENCE_BATCH_INTERVAL_MS,
    maxSocketBufferBytes: e.MAX_SOCKET_BUFFER_BYTES,
    kickBlockSeconds: e.KICK_BLOCK_SECONDS,
    banSweepSeconds: e.BAN_SWEEP_SECONDS,
    retention: Object.freeze({
      messageDays: e.MESSAGE_RETENTION_DAYS,
      auditDays: e.AUDIT_RETENTION_DAYS,
      intervalSeconds: e.RETENTION_INTERVAL_SECONDS,
      batchSize: e.RETENTION_BATCH_SIZE,
    }),
    roomCreateRateLimit: e.ROOM_CREATE_RATE_LIMIT,
    roomCreateRateWindow: e.ROOM_CREATE_RATE_WINDOW,
    membershipRateLimit: e.MEMBERSHIP_RATE_LIMIT,
    membershipRateWindow: e.MEMBERSHIP_RATE_WINDOW,
    historyRateLimit: e.HISTORY_RATE_LIMIT,
    historyRateWindow: e.HISTORY_RATE_WINDOW,
    apiKeyRateLimit: e.API_KEY_RATE_LIMIT,
    apiKeyRateWindow: e.API_KEY_RATE_WINDOW,
    readRateLimit: e.READ_RATE_LIMIT,
    readRateWindow: e.READ_RATE_WINDOW,
    reactionRateLimit: e.REACTION_RATE_LIMIT,
    reactionRateWindow: e.REACTION_RATE_WINDOW,
    maxReactionEmojis: e.MAX_REACTION_EMOJIS,
    nodeId: e.NODE_ID ?? `node-${randomBytes(4).toString('hex')}`,
    workers,
    metricsToken: e.METRICS_TOKEN ?? null,
    trustProxy: Object.freeze(parseTrustProxy(e.TRUST_PROXY)),
    ...httpTimeouts(e.HTTP_HEADERS_TIMEOUT_MS, e.HTTP_REQUEST_TIMEOUT_MS),
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    drainGraceMs: e.DRAIN_GRACE_MS,
    webhooks: Object.freeze({
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
      dispatch: e.WEBHOOK_DISPATCH === 'on',
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      retryWindowSeconds: e.WEBHOOK_RETRY_WINDOW_S,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      pollMs: e.WEBHOOK_POLL_MS,
      subscriptionRefreshMs: e.WEBHOOK_SUBSCRIPTION_REFRESH_MS,
      retentionDays: e.WEBHOOK_RETENTION_DAYS,
    }),
    beforePublish: beforePublish(e),
  });
}

function beforePublish(e: z.output<typeof envSchema>): BeforePublishConfig | null {
  if (!e.BEFORE_PUBLISH_URL) return null;
  // Unsigned calls would let anyone who reaches the app's hook pose as Roomcast.
  if (!e.BEFORE_PUBLISH_SECRET) throw new ConfigError('invalid configuration: BEFORE_PUBLISH_SECRET is required when BEFORE_PUBLISH_URL is set');
  return Object.freeze({
    url: e.BEFORE_PUBLISH_URL,
    timeoutMs: e.BEFORE_PUBLISH_TIMEOUT_MS,
    failMode: e.BEFORE_PUBLISH_FAIL,
    secret: e.BEFORE_PUBLISH_SECRET,
    allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
  });
}

/**
 * Several workers are several nodes on one box: what they share must live
 * outside them. PGlite is one process's database, and the in-memory presence,
 * limits and bans are one process's, so WORKERS > 1 needs PostgreSQL and
 * Redis (docs/operations.md "All cores of one box" says why).
 */
function sharedStateForWorkers(workers: number, databaseUrl: string | null, redis: boolean): void {
  if (!databaseUrl) {
    throw new ConfigError(
      `invalid configuration: WORKERS=${workers} needs DATABASE_URL (PostgreSQL): the embedded database belongs to one process and cannot be shared by workers`,
    );
  }
  if (!redis) {
    throw new ConfigError(
      `invalid configuration: WORKERS=${workers} needs REDIS_URL or REDIS_CLUSTER_NODES: presence, rate limits, bans and fan-out must be shared by the workers`,
    );
  }
}

/** Whether the nodes share state through Redis (one instance or a cluster). */
export const usesRedis = (config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): boolean => Boolean(config.redisUrl || config.redisClusterNodes);

/** `host:port` or a redis(s):// URL as a URL; null when it is neither. */
function clusterNodeUrl(node: string): string | null {
  const url = /^rediss?:\/\//.test(node) ? node : `redis://${node}`;
  try {
    const parsed = new URL(url);
    return parsed.hostname && parsed.port ? url : null;
  } catch {
    return null;
  }
}

function emptyToUndefined(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
}

function parseOrigins(list: string): string[] {
  const origins = list.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(`invalid configuration: CORS_ORIGINS has "${origin}", which is not an origin`);
    }
    if (url.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError(`invalid configuration: CORS_ORIGINS has "${origin}"; give scheme://host[:port] only`);
    }
  }
  return origins.map((o) => o.replace(/\/$/, ''));
}

/** `none`, or a comma-separated list proxy-addr understands (checked here, so a typo stops the start). */
function parseTrustProxy(list: string): string[] {
  const entries = list.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 1 && entries[0] === 'none') return [];
  try {
    proxyAddr.compile(entries);
  } catch {
    throw new ConfigError(`invalid configuration: TRUST_PROXY "${list}" must be "none" or IPs, CIDRs and loopback/linklocal/uniquelocal, comma-separated`);
  }
  return entries;
}

function signingKeys(e: z.output<typeof envSchema>, secret: string | null): AccessTokenKeys {
  try {
    return accessTokenKeys({
      algorithm: e.JWT_ALGORITHM,
      secret,
      privateKeyPem: e.JWT_PRIVATE_KEY ?? null,
      keyId: e.JWT_KEY_ID ?? null,
      previousPublicKeys: e.JWT_PREVIOUS_PUBLIC_KEYS ?? null,
    });
  } catch (err) {
    if (err instanceof AccessTokenKeyError) throw new ConfigError(`invalid configuration: ${err.message}`);
    throw err;
  }
}

function identity(e: z.output<typeof envSchema>): { externalIdentity: ExternalIdentityConfig | null; builtinAuth: boolean } {
  let externalIdentity: ExternalIdentityConfig | null;
  try {
    externalIdentity = externalIdentityConfig({
      jwksUrl: e.AUTH_JWKS_URL ?? null,
      issuer: e.AUTH_JWT_ISSUER ?? null,
      audience: e.AUTH_JWT_AUDIENCE ?? null,
      publicKeyPem: e.AUTH_JWT_PUBLIC_KEY ?? null,
      secret: e.AUTH_JWT_SECRET ?? null,
      usernameClaim: e.AUTH_USERNAME_CLAIM,
      roleClaim: e.AUTH_ROLE_CLAIM ?? null,
      jwksTimeoutMs: e.AUTH_JWKS_TIMEOUT_MS,
      jwksCooldownMs: e.AUTH_JWKS_COOLDOWN_MS,
      jwksCacheMaxAgeMs: e.AUTH_JWKS_CACHE_MS,
    });
  } catch (err) {
    if (err instanceof ExternalIdentityConfigError) throw new ConfigError(`invalid configuration: ${err.message}`);
    throw err;
  }
  if (e.BUILTIN_AUTH === 'off' && !externalIdentity) {
    throw new ConfigError('invalid configuration: BUILTIN_AUTH=off needs an identity provider (AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY or AUTH_JWT_SECRET)');
  }
  return { externalIdentity, builtinAuth: e.BUILTIN_AUTH === 'on' };
}

/** Node refuses a request timeout below the headers timeout: say so at start instead. */
function httpTimeouts(headersMs: number, requestMs: number) {
  if (headersMs > requestMs) {
    throw new ConfigError('invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  return { httpHeadersTimeoutMs: headersMs, httpRequestTimeoutMs: requestMs };
}

/**
 * Outside production a missing JWT_SECRET is generated once and kept in
 * DATA_DIR, so tokens survive restarts; production must set it, since every
 * node of a cluster needs the same one.
 */
function developmentSecret(env: string, dataDir: string): string {
  if (env === 'production') {
    throw new ConfigError('invalid configuration: JWT_SECRET is required when NODE_ENV=production');
  }
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  process.emitWarning(`JWT_SECRET is not set; generated one and kept it in ${file}`);
  return secret;
}
