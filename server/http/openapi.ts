// The OpenAPI 3.1 document, built from the REST route table: the request
// schemas are the very zod schemas the routes validate with, the responses
// the shapes the handlers are typed to return, so the document cannot
// describe a route, a body or an answer the server does not have. Schemas
// named with `.meta({ id })` become components/schemas and are referenced by
// $ref, so generated clients get real types.
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../protocol.js';
import * as R from './response-schemas.js';
import { API_PREFIX } from './route-table/build-router.js';
import type { Access, Route } from './route-table/route.js';

type JsonSchema = Record<string, unknown>;
type Components = Record<string, JsonSchema>;

/** Errors the access rule's guard answers. */
const ACCESS_ERRORS: Record<Access, ErrorCode[]> = {
  anyone: [],
  refresh: [],
  // The guard reads the user from the database on every request.
  user: ['unauthorized', 'token_expired', 'banned', 'unavailable'],
  admin: ['unauthorized', 'token_expired', 'banned', 'forbidden', 'unavailable'],
  scraper: ['unauthorized', 'forbidden'],
  // A live key (read from the database on every call), its scope, its rate limit.
  server: ['unauthorized', 'forbidden', 'rate_limited', 'unavailable'],
};

/**
 * Errors of the transport in front of every /api route: a body that is not
 * JSON (any method), a body over MAX_PACKET_BYTES, an Origin not allowed.
 */
const API_TRANSPORT_ERRORS: ErrorCode[] = ['validation_failed', 'payload_too_large', 'forbidden'];

const SAFE_INT_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
const DEFS = '#/$defs/';
const COMPONENTS = '#/components/schemas/';

/** `#/$defs/X` (zod's single-schema output) → `#/components/schemas/X`, deeply. */
function toComponentRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toComponentRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, key === '$ref' && typeof inner === 'string' && inner.startsWith(DEFS) ? COMPONENTS + inner.slice(DEFS.length) : toComponentRefs(inner)]),
  );
}

/**
 * A zod schema as JSON Schema 2020-12 (the dialect of OpenAPI 3.1). Named
 * schemas inside it go to `components` (once; a name whose request and
 * response forms differ is a bug and throws) and are replaced by $ref.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output', components: Components): JsonSchema {
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
  const { $schema: _dialect, $defs, ...rest } = converted;
  for (const [name, definition] of Object.entries(($defs ?? {}) as Components)) {
    const component = toComponentRefs(definition) as JsonSchema;
    const known = components[name];
    if (known && JSON.stringify(known) !== JSON.stringify(component)) throw new Error(`OpenAPI component ${name} has two different forms`);
    components[name] = component;
  }
  return toComponentRefs(rest) as JsonSchema;
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

function parameters(route: Route, components: Components): object[] {
  const list: object[] = [];
  for (const [where, schema] of [['path', route.params], ['query', route.query]] as const) {
    if (!schema) continue;
    const js = jsonSchema(schema, 'input', components);
    const properties = (js.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((js.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      list.push({ name, in: where, required: where === 'path' || required.has(name), schema: property });
    }
  }
  return list;
}

/** Every error code a route can answer: its own, its access rule's, its input's and its transport's. */
export function errorCodes(route: Route): ErrorCode[] {
  const codes = new Set<ErrorCode>([...ACCESS_ERRORS[route.access], ...(route.errors ?? [])]);
  if (route.body || route.query || route.params) codes.add('validation_failed');
  if (route.path.startsWith(`${API_PREFIX}/`)) for (const code of API_TRANSPORT_ERRORS) codes.add(code);
  codes.add('internal');
  return [...codes];
}

function responses(route: Route, components: Components): Record<string, object> {
  const { success } = route;
  const answers: Record<string, object> = {};
  const contentType = success.contentType ?? 'application/json';
  answers[String(success.status)] = {
    description: success.description,
    ...(success.status === 204 ? {} : { content: { [contentType]: success.schema ? { schema: jsonSchema(success.schema, 'output', components) } : {} } }),
  };
  for (const other of route.others ?? []) {
    answers[String(other.status)] = { description: other.description, content: { 'application/json': { schema: jsonSchema(other.schema, 'output', components) } } };
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodes(route)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    if (answers[String(status)]) throw new Error(`${route.method} ${route.path}: status ${status} is both an answer and an error`);
    answers[String(status)] = {
      description: `error code ${codes.join(' | ')}`,
      ...(status === 429 ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } } } : {}),
      content: { 'application/json': { schema: { $ref: `${COMPONENTS}Error` } } },
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
  server: [{ apiKey: [] }],
};

const operationId = (route: Route) =>
  `${route.method}${openApiPath(route.path).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`;

function operation(route: Route, components: Components): object {
  const needs = route.access === 'admin' ? 'Admins only.' : route.access === 'server' ? `Server API key with the \`${route.scope}\` scope.` : '';
  const description = [needs, route.description ?? ''].filter(Boolean).join(' ');
  return {
    operationId: operationId(route),
    summary: route.summary,
    tags: [route.tag],
    ...(description ? { description } : {}),
    parameters: parameters(route, components),
    ...(SECURITY[route.access] ? { security: SECURITY[route.access] } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.access !== 'refresh',
            content: { 'application/json': { schema: jsonSchema(route.body, 'input', components), ...(route.example === undefined ? {} : { example: route.example }) } },
          },
        }
      : {}),
    responses: responses(route, components),
  };
}

/** The OpenAPI 3.1 document of the route table. */
export function openApiDocument(routes: readonly Route[], options: { version: string }): object {
  const components: Components = {};
  jsonSchema(R.errorSchema, 'output', components);
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) (paths[openApiPath(route.path)] ??= {})[route.method] = operation(route, components);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Roomcast REST API',
      version: options.version,
      description:
        'REST side of the Roomcast wire contract (v1). Realtime events are on Socket.IO: see docs/socket-protocol.md. ' +
        'Every error answers `{ error: { code, message, details? } }`. ' +
        'A path below asked with a method it does not list answers 405 `method_not_allowed` with an `Allow` header.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'auth', description: 'Accounts and sessions' },
      { name: 'rooms', description: 'Rooms and their history' },
      { name: 'admin', description: 'Moderation (admins only)' },
      { name: 'server', description: 'Server API for the app\'s backend (server API keys with scopes)' },
      { name: 'operations', description: 'Health, readiness and metrics' },
      { name: 'docs', description: 'This reference' },
    ],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token from register, login or refresh' },
        refreshCookie: { type: 'apiKey', in: 'cookie', name: 'roomcast_refresh', description: 'Browser mode; native clients send refreshToken in the body instead' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'rck_…',
          description: 'A server API key (POST /api/admin/api-keys or `npm run admin api-key create`), for the /api/server/ routes; each route needs one scope',
        },
      },
    },
  };
}
