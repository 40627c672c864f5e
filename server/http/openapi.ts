// The REST route catalogue and the OpenAPI 3.1 document built from it. Request
// parts are the very zod schemas the routes validate with, so the document
// cannot describe a body the server would refuse (test/openapi.test.ts also
// checks that this catalogue and the routes Express registers are the same).
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../protocol.js';
import * as S from '../schemas.js';
import * as R from './response-schemas.js';

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';
/** Who may call a route: anyone, a signed-in user, an admin, the holder of a refresh token, a metrics scraper. */
export type Access = 'anyone' | 'user' | 'admin' | 'refresh' | 'scraper';

export interface RouteDoc {
  method: HttpMethod;
  /** Express syntax: `/api/rooms/:id`. */
  path: string;
  summary: string;
  tag: 'auth' | 'rooms' | 'admin' | 'operations' | 'docs';
  access: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A request body the body schema accepts (checked by a test). */
  example?: unknown;
  success: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Error codes this route answers besides validation_failed/internal/unavailable, which every route may. */
  errors: ErrorCode[];
}

const EXAMPLE_UUID = '0b7c6f7e-6a8e-4a57-9a3e-6f1f2f1b9c11';
const AUTH_ERRORS: ErrorCode[] = ['unauthorized', 'token_expired', 'banned'];

/** Every route the server registers. `maxMessageLength` sizes the broadcast body schema. */
export function routeCatalogue(maxMessageLength: number): RouteDoc[] {
  const content = S.contentSchemas(maxMessageLength);
  return [
    // ------------------------------------------------------------- auth
    {
      method: 'post', path: '/api/auth/register', tag: 'auth', access: 'anyone',
      summary: 'Create an account (the first one becomes admin) and sign in',
      body: S.registerSchema,
      example: { username: 'ada_l', email: 'ada@example.com', password: 'correct horse battery', client: 'native' },
      success: { status: 201, description: 'Signed in. Browser mode sets the roomcast_refresh cookie; native mode returns refreshToken.', schema: R.authResponseSchema },
      errors: ['conflict', 'registration_closed', 'rate_limited'],
    },
    {
      method: 'post', path: '/api/auth/login', tag: 'auth', access: 'anyone',
      summary: 'Sign in with username or email (case-insensitive) and password',
      body: S.loginSchema,
      example: { login: 'ada@example.com', password: 'correct horse battery' },
      success: { status: 200, description: 'Signed in', schema: R.authResponseSchema },
      errors: ['invalid_credentials', 'banned', 'rate_limited'],
    },
    {
      method: 'post', path: '/api/auth/refresh', tag: 'auth', access: 'refresh',
      summary: 'Rotate the refresh token (cookie, or refreshToken in the body) for a new access token',
      body: S.refreshSchema,
      example: { refreshToken: 'rt_example' },
      success: { status: 200, description: 'A new access token (and, in native mode, a new refresh token)', schema: R.refreshResponseSchema },
      errors: ['unauthorized', 'refresh_reused', 'banned', 'rate_limited'],
    },
    {
      method: 'post', path: '/api/auth/logout', tag: 'auth', access: 'refresh',
      summary: 'Revoke the refresh token\'s login and end its sockets',
      body: S.refreshSchema,
      example: {},
      success: { status: 204, description: 'Signed out' },
      errors: ['unauthorized'],
    },
    {
      method: 'get', path: '/api/me', tag: 'auth', access: 'user',
      summary: 'The signed-in user, with email',
      success: { status: 200, description: 'The caller', schema: R.userResponseSchema },
      errors: AUTH_ERRORS,
    },
    // ------------------------------------------------------------ rooms
    {
      method: 'get', path: '/api/rooms', tag: 'rooms', access: 'user',
      summary: 'Public rooms and the private rooms the caller is a member of',
      success: { status: 200, description: 'Rooms', schema: R.roomsResponseSchema },
      errors: AUTH_ERRORS,
    },
    {
      method: 'post', path: '/api/rooms', tag: 'rooms', access: 'user',
      summary: 'Create a room (private or readOnly rooms: admins only)',
      body: S.createRoomSchema,
      example: { name: 'general', visibility: 'public' },
      success: { status: 201, description: 'The new room', schema: R.roomResponseSchema },
      errors: [...AUTH_ERRORS, 'forbidden', 'conflict'],
    },
    {
      method: 'get', path: '/api/rooms/:id', tag: 'rooms', access: 'user',
      summary: 'One room the caller can see',
      params: S.idParamSchema,
      success: { status: 200, description: 'The room', schema: R.roomResponseSchema },
      errors: [...AUTH_ERRORS, 'not_found'],
    },
    {
      method: 'get', path: '/api/rooms/:id/messages', tag: 'rooms', access: 'user',
      summary: 'History: afterSeq (catch up, oldest first) or beforeSeq (page back), never both; neither gives the latest',
      params: S.idParamSchema,
      query: S.historyQuerySchema,
      success: { status: 200, description: 'Messages ascending by seq', schema: R.historyPageSchema },
      errors: [...AUTH_ERRORS, 'not_found'],
    },
    {
      method: 'patch', path: '/api/rooms/:id', tag: 'rooms', access: 'admin',
      summary: 'Rename, make read-only or archive a room',
      params: S.idParamSchema,
      body: S.updateRoomSchema,
      example: { readOnly: true },
      success: { status: 200, description: 'The updated room (also sent as room:updated)', schema: R.roomResponseSchema },
      errors: [...AUTH_ERRORS, 'forbidden', 'not_found', 'conflict'],
    },
    {
      method: 'post', path: '/api/rooms/:id/members', tag: 'rooms', access: 'admin',
      summary: 'Add a member to a private room',
      params: S.idParamSchema,
      body: S.addMemberSchema,
      example: { userId: EXAMPLE_UUID },
      success: { status: 204, description: 'Added' },
      errors: [...AUTH_ERRORS, 'forbidden', 'not_found'],
    },
    {
      method: 'delete', path: '/api/rooms/:id/members/:userId', tag: 'rooms', access: 'admin',
      summary: 'Remove a member from a room',
      params: S.memberParamsSchema,
      success: { status: 204, description: 'Removed' },
      errors: [...AUTH_ERRORS, 'forbidden', 'not_found'],
    },
    // ------------------------------------------------------------ admin
    {
      method: 'get', path: '/api/admin/users', tag: 'admin', access: 'admin',
      summary: 'Search users by username or email',
      query: S.userSearchSchema,
      success: { status: 200, description: 'One page of users', schema: R.usersPageSchema },
      errors: [...AUTH_ERRORS, 'forbidden'],
    },
    {
      method: 'patch', path: '/api/admin/users/:id', tag: 'admin', access: 'admin',
      summary: 'Change a user\'s role or ban them (ends their sockets on every node)',
      params: S.idParamSchema,
      body: S.updateUserSchema,
      example: { banned: true },
      success: { status: 200, description: 'The updated user', schema: R.userResponseSchema },
      errors: [...AUTH_ERRORS, 'forbidden', 'not_found'],
    },
    {
      method: 'post', path: '/api/admin/broadcast', tag: 'admin', access: 'admin',
      summary: 'Send system:broadcast to everyone, or to one room',
      body: content.broadcast,
      example: { content: 'Maintenance at 22:00 UTC' },
      success: { status: 202, description: 'Sent', schema: R.broadcastResultSchema },
      errors: [...AUTH_ERRORS, 'forbidden', 'not_found'],
    },
    {
      method: 'delete', path: '/api/admin/messages/:id', tag: 'admin', access: 'admin',
      summary: 'Delete any message (it keeps its seq)',
      params: S.messageIdParamSchema,
      success: { status: 204, description: 'Deleted' },
      errors: [...AUTH_ERRORS, 'forbidden', 'not_found'],
    },
    {
      method: 'get', path: '/api/admin/audit', tag: 'admin', access: 'admin',
      summary: 'The audit log, newest first',
      query: S.auditQuerySchema,
      success: { status: 200, description: 'One page of entries', schema: R.auditPageSchema },
      errors: [...AUTH_ERRORS, 'forbidden'],
    },
    // ------------------------------------------------------- operations
    {
      method: 'get', path: '/healthz', tag: 'operations', access: 'anyone',
      summary: 'Liveness: 200 while the process runs',
      success: { status: 200, description: 'Alive', schema: R.healthSchema },
      errors: [],
    },
    {
      method: 'get', path: '/readyz', tag: 'operations', access: 'anyone',
      summary: 'Readiness: 200 when the database (and Redis, if configured) answer and the node is not draining',
      success: { status: 200, description: 'Ready (503 with the same shape when not)', schema: R.readinessSchema },
      errors: [],
    },
    {
      method: 'get', path: '/metrics', tag: 'operations', access: 'scraper',
      summary: 'Prometheus metrics (METRICS_TOKEN bearer token; unset: loopback only)',
      success: { status: 200, description: 'Prometheus text format', contentType: 'text/plain' },
      errors: ['unauthorized', 'forbidden'],
    },
    // ------------------------------------------------------------- docs
    {
      method: 'get', path: '/api/openapi.json', tag: 'docs', access: 'anyone',
      summary: 'This document',
      success: { status: 200, description: 'OpenAPI 3.1', contentType: 'application/json' },
      errors: [],
    },
    {
      method: 'get', path: '/api/docs', tag: 'docs', access: 'anyone',
      summary: 'A browsable reference of this document (Swagger UI, served locally)',
      success: { status: 200, description: 'HTML page', contentType: 'text/html' },
      errors: [],
    },
  ];
}

type JsonSchema = Record<string, unknown>;

const SAFE_INT_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** A zod schema as a standalone JSON Schema (2020-12, the dialect of OpenAPI 3.1), as a client sends it. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const converted = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    // `.int()` adds ±2^53 bounds; they say nothing to a reader.
    override: ({ jsonSchema: js }) => {
      if (typeof js.minimum === 'number' && SAFE_INT_BOUNDS.has(js.minimum)) delete js.minimum;
      if (typeof js.maximum === 'number' && SAFE_INT_BOUNDS.has(js.maximum)) delete js.maximum;
    },
  }) as JsonSchema;
  delete converted.$schema;
  return converted;
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

function parameters(route: RouteDoc): object[] {
  const list: object[] = [];
  for (const [where, schema] of [['path', route.params], ['query', route.query]] as const) {
    if (!schema) continue;
    const js = jsonSchema(schema);
    const properties = (js.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((js.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      list.push({ name, in: where, required: where === 'path' || required.has(name), schema: property });
    }
  }
  return list;
}

function responses(route: RouteDoc): Record<string, object> {
  const { success } = route;
  const answers: Record<string, object> = {};
  const contentType = success.contentType ?? 'application/json';
  answers[String(success.status)] = {
    description: success.description,
    ...(success.status === 204 ? {} : { content: { [contentType]: success.schema ? { schema: jsonSchema(success.schema, 'output') } : {} } }),
  };
  const codes: ErrorCode[] = [...(route.body || route.query || route.params ? ['validation_failed' as const] : []), ...route.errors, 'internal'];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    answers[String(status)] = {
      description: `error code ${list.join(' | ')}`,
      ...(status === 429 ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } } } : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return answers;
}

const SECURITY: Record<Access, object[] | undefined> = {
  anyone: undefined,
  user: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  refresh: [{ refreshCookie: [] }, {}],
  scraper: [{ metricsToken: [] }],
};

/** The OpenAPI 3.1 document of every REST route, from the catalogue. */
export function openApiDocument(options: { maxMessageLength: number; version: string }): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routeCatalogue(options.maxMessageLength)) {
    const operation: Record<string, unknown> = {
      operationId: `${route.method}${openApiPath(route.path).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.summary,
      tags: [route.tag],
      description: route.access === 'admin' ? 'Admins only.' : undefined,
      parameters: parameters(route),
      responses: responses(route),
    };
    const security = SECURITY[route.access];
    if (security) operation.security = security;
    if (route.body) {
      operation.requestBody = {
        required: route.access !== 'refresh',
        content: { 'application/json': { schema: jsonSchema(route.body), ...(route.example === undefined ? {} : { example: route.example }) } },
      };
    }
    if (operation.description === undefined) delete operation.description;
    (paths[openApiPath(route.path)] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Roomcast REST API',
      version: options.version,
      description:
        'REST side of the Roomcast wire contract (v1). Realtime events are on Socket.IO: see docs/socket-protocol.md. ' +
        'Every error answers `{ error: { code, message, details? } }`.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'auth', description: 'Accounts and sessions' },
      { name: 'rooms', description: 'Rooms and their history' },
      { name: 'admin', description: 'Moderation (admins only)' },
      { name: 'operations', description: 'Health, readiness and metrics' },
      { name: 'docs', description: 'This reference' },
    ],
    paths,
    components: {
      schemas: { Error: jsonSchema(R.errorSchema, 'output') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token from register, login or refresh' },
        refreshCookie: { type: 'apiKey', in: 'cookie', name: 'roomcast_refresh', description: 'Browser mode; native clients send refreshToken in the body instead' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
      },
    },
  };
}
