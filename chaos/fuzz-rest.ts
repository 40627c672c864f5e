// Fuzz over every REST route the node's own OpenAPI document lists (so a new
// route is fuzzed the day it is added): path parameters, query strings and
// bodies built from the document's schemas, with awkward strings mixed in —
// NUL, lone surrogates, bidi marks and overrides, zero-width characters,
// 10,000-character strings. Whatever comes in, the answer is a contract
// status with the Error shape, never a 5xx, and no answer gives away a stack
// trace, a source path or the database's words. Like the event fuzz it only
// writes through ids it made itself, so it is safe against a deployment.
import fc from 'fast-check';
import type { AttackRow } from './attacks.js';
import { call, leakProblem, runUsername, type Registered } from './wire.js';

// 405: an empty path id (`PATCH /api/admin/users/`) is the collection's path, which has no PATCH.
const ERROR_STATUSES = new Set([400, 401, 403, 404, 405, 409, 413, 415, 429]);
const SUCCESS = new Set([200, 201, 202, 204]);
/** Refused by Node's HTTP parser before the app sees the request (a 10,000-character path): no body to judge. */
const PARSER_REFUSALS = new Set([414, 431]);
/**
 * How long one request may take. Sign-in and sign-up hash with bcrypt on
 * worker threads at the lowest CPU priority (server/auth/password-pool.ts):
 * on a saturated machine they take whatever CPU is spare, which can be many
 * seconds. Slow answers are counted in the facts; no answer at all is a violation.
 */
const REQUEST_TIMEOUT_MS = 60_000;
const SLOW_MS = 15_000;

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  maxLength?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }>; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface RestOperation {
  method: string;
  /** The document's path, `{name}` for parameters. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  body: JsonSchema | null;
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Every operation of the document, with `$ref` bodies resolved. */
export function operationsOf(doc: OpenApiDocument): RestOperation[] {
  const resolve = (schema: JsonSchema | undefined): JsonSchema | null => {
    if (!schema) return null;
    if (!schema.$ref) return schema;
    return doc.components?.schemas?.[schema.$ref.replace('#/components/schemas/', '')] ?? null;
  };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        body: resolve(op.requestBody?.content?.['application/json']?.schema),
      })),
  );
}

export interface RestFixtures {
  admin: Registered;
  member: Registered;
  /** The only user a user-changing route may target. */
  victim: Registered;
}

// Strings the database or a screen chokes on; lone surrogates only in JSON
// bodies (a URL cannot carry one: encodeURIComponent refuses it).
const awkwardInUrl = fc.constantFrom('\u0000', 'a\u0000b', '\u202Eevil', '\u200F', '\u200B', '\u2066x\u2069', '\u3164', 'Cafe\u0301', 'x'.repeat(2_000), 'x'.repeat(10_000));
const awkward = fc.oneof(awkwardInUrl, fc.constantFrom('\ud800', 'x\udfff', '\udc00\ud800', '\u0000'.repeat(100)));
const edgeNumber = fc.constantFrom('9223372036854775808', '9223372036854775807', '1e20', '99999999999999', '-0', '0x10', ' 5', '', '-1', '2147483648', 'NaN', 'Infinity');

interface Ids {
  roomId: string;
  victimId: string;
}

/** A path parameter: one of ours, or none that exists, or junk (never a small message id: that would be somebody's). */
function pathValue(path: string, name: string, ids: Ids): fc.Arbitrary<string> {
  const junk = fc.oneof(fc.uuid(), fc.string({ maxLength: 20 }), awkwardInUrl, edgeNumber, fc.constant(''));
  if (name === 'userId' || path.startsWith('/api/admin/users')) return fc.oneof({ weight: 3, arbitrary: fc.constant(ids.victimId) }, junk);
  if (path.startsWith('/api/rooms')) return fc.oneof({ weight: 3, arbitrary: fc.constant(ids.roomId) }, fc.constant(ids.roomId.toUpperCase()), junk);
  return fc.oneof(fc.bigInt({ min: 10n ** 15n, max: 10n ** 20n }).map(String), fc.string({ maxLength: 20 }).filter((s) => !/^\s*\d{1,15}\s*$/.test(s)), awkwardInUrl, fc.constantFrom('9223372036854775807', '9223372036854775808', '0', '-1', ''));
}

const queryValue = fc.oneof(fc.integer({ min: -5, max: 300 }).map(String), edgeNumber, fc.string({ maxLength: 20 }), fc.uuid(), awkwardInUrl);
const hostileKey = fc.constantFrom('afterSeq[]', 'limit[__proto__]', '__proto__', 'constructor[prototype][x]', 'q[]', 'cursor[$ne]');

function queryString(names: string[]): fc.Arbitrary<string> {
  const declared = names.length ? fc.array(fc.tuple(fc.constantFrom(...names), queryValue), { maxLength: names.length + 1 }) : fc.constant([] as Array<[string, string]>);
  const extra = fc.array(fc.tuple(hostileKey, queryValue), { maxLength: 1 });
  return fc.tuple(declared, extra).map(([a, b]) => [...a, ...b].map(([k, v]) => `${encodeURIComponent(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(v)}`).join('&'));
}

/** A value for one body property, from its schema and name. */
function propertyValue(name: string, schema: JsonSchema, ids: Ids): fc.Arbitrary<unknown> {
  const any = fc.anything({ maxDepth: 2 });
  const str = fc.string({ maxLength: Math.min(schema.maxLength ?? 60, 80) });
  if (name === 'username') return fc.oneof(fc.constant(0).map(() => runUsername('rf', 6)), awkward, str);
  if (name === 'email') return fc.oneof(fc.constant(0).map(() => `${runUsername('rf', 6)}@chaos.test`), awkward, str);
  if (name === 'userId') return fc.oneof({ weight: 3, arbitrary: fc.constant(ids.victimId) }, fc.uuid(), awkward, any);
  if (name === 'roomId') return fc.oneof({ weight: 3, arbitrary: fc.constant(ids.roomId) }, fc.uuid(), awkward);
  if (schema.enum) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...schema.enum) }, awkward, any);
  if (schema.const !== undefined) return fc.oneof({ weight: 3, arbitrary: fc.constant(schema.const) }, awkward, any);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'boolean') return fc.oneof({ weight: 3, arbitrary: fc.boolean() }, fc.constantFrom('true', 0, 1, null), any);
  if (type === 'integer' || type === 'number') return fc.oneof({ weight: 3, arbitrary: fc.integer({ min: -5, max: 300 }) }, fc.constantFrom(2 ** 31, 2 ** 53, 1e20, -0, 1.5, Number.MAX_SAFE_INTEGER), edgeNumber, any);
  if (schema.format === 'date-time') return fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), awkward, str);
  if (type === 'string') return fc.oneof({ weight: 3, arbitrary: str }, awkward, fc.string({ minLength: 3_990, maxLength: 4_010 }), any);
  return any;
}

function bodyFor(op: RestOperation, ids: Ids): fc.Arbitrary<unknown> {
  if (op.method === 'GET') return fc.constant(undefined); // fetch sends no body with a GET
  const anything = fc.anything({ maxDepth: 3 });
  const props = op.body?.properties;
  if (!props) return fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, anything);
  const model = Object.fromEntries(Object.entries(props).map(([name, schema]) => [name, propertyValue(name, schema, ids)]));
  return fc.oneof(
    { weight: 3, arbitrary: fc.record(model) },
    { weight: 3, arbitrary: fc.record(model, { requiredKeys: [] }) },
    fc.tuple(fc.record(model), fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'extra', 'role', 'id'), anything, { maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a })),
    anything,
  );
}

/**
 * Keeps the fuzz to what it made: a broadcast always names a room (ours or one
 * that does not exist), never everyone on the deployment.
 */
function scoped(op: RestOperation, body: unknown, ids: Ids): unknown {
  if (op.path !== '/api/admin/broadcast' || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  return typeof b.roomId === 'string' ? body : { ...b, roomId: ids.roomId };
}

type Caller = 'admin' | 'member' | 'nobody';
type Request = { op: RestOperation; path: string; body: unknown; caller: Caller };

function requests(ops: RestOperation[], ids: Ids): fc.Arbitrary<Request> {
  return fc.oneof(
    ...ops.map((op) =>
      fc
        .tuple(
          fc.tuple(...op.pathParams.map((name) => pathValue(op.path, name, ids))),
          queryString(op.queryParams),
          bodyFor(op, ids),
          fc.constantFrom<Caller>('admin', 'admin', 'member', 'member', 'nobody'),
        )
        .map(([params, query, body, caller]) => {
          let path = op.path;
          op.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, encodeURIComponent(params[i]!))));
          return { op, path: query ? `${path}?${query}` : path, body: scoped(op, body, ids), caller };
        }),
    ),
  );
}

function* drawRequests(arbitrary: fc.Arbitrary<Request>, runs: number, seed: number): Generator<Request> {
  const chunk = 500;
  for (let drawn = 0, i = 0; drawn < runs; i++) {
    const n = Math.min(chunk, runs - drawn);
    yield* fc.sample(arbitrary, { numRuns: n, seed: seed + i });
    drawn += n;
  }
}

/** What is wrong with one answer, or null. */
export function restProblem(method: string, path: string, status: number, text: string, body: unknown): string | null {
  const where = `${method} ${path.slice(0, 120)}`;
  // Successes echo the fuzz's own input (a room's name): judge only what errors give away.
  const leak = status >= 400 ? leakProblem(text) : null;
  if (leak) return `${where} answered ${status} with ${leak}`;
  // /readyz documents 503 (a dependency is down); nothing else may answer 5xx to any input.
  if (status >= 500 && !(status === 503 && path === '/readyz')) return `${where} answered ${status}: ${text.slice(0, 160)}`;
  if (ERROR_STATUSES.has(status)) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') return `${where} answered ${status} without the Error shape: ${text.slice(0, 160)}`;
    return null;
  }
  if (!SUCCESS.has(status) && !PARSER_REFUSALS.has(status) && status < 500) return `${where} answered ${status}`;
  return null;
}

export async function fuzzRest(url: string, users: RestFixtures, runs: number, concurrency: number): Promise<AttackRow> {
  const problems: string[] = [];
  const doc = await call<OpenApiDocument>(url, 'GET', '/api/openapi.json');
  if (doc.status !== 200) throw new Error(`GET /api/openapi.json answered ${doc.status}`);
  const ops = operationsOf(doc.body);
  // A room of its own: the fuzz archives it, renames it, sets it read-only.
  const room = await call<{ room: { id: string } }>(url, 'POST', '/api/rooms', { token: users.member.token, body: { name: 'rest fuzz' } });
  if (room.status !== 201) throw new Error(`the REST fuzz could not create its room: ${room.status}`);
  const ids: Ids = { roomId: room.body.room.id, victimId: users.victim.userId };
  const statuses: Record<string, number> = {};
  const routesHit = new Set<string>();
  const seed = Number(process.env.CHAOS_SEED) || Date.now() % 2 ** 31;
  const source = drawRequests(requests(ops, ids), runs, seed);
  let sent = 0;
  let slowestMs = 0;
  const slow: Record<string, number> = {};
  const started = performance.now();
  const worker = async () => {
    for (let next = source.next(); !next.done; next = source.next()) {
      const { op, path, body, caller } = next.value;
      sent++;
      routesHit.add(`${op.method} ${op.path}`);
      const token = caller === 'nobody' ? undefined : users[caller].token;
      const res = await call(url, op.method, path, { timeoutMs: REQUEST_TIMEOUT_MS, ...(token ? { token } : {}), ...(body === undefined ? {} : { body: JSON.stringify(body) ?? 'null' }) }).catch((err: Error) => ({
        status: 0,
        text: String(err.message),
        body: null,
        ms: REQUEST_TIMEOUT_MS,
      }));
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      slowestMs = Math.max(slowestMs, res.ms);
      if (res.ms > SLOW_MS) slow[`${op.method} ${op.path}`] = (slow[`${op.method} ${op.path}`] ?? 0) + 1;
      const problem = res.status === 0 ? `${op.method} ${path.slice(0, 120)}: no answer (${res.text})` : restProblem(op.method, path, res.status, res.text, res.body);
      if (problem) problems.push(`${problem} for ${JSON.stringify(body)?.slice(0, 160)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const missed = ops.map((op) => `${op.method} ${op.path}`).filter((r) => !routesHit.has(r));
  if (missed.length && sent >= ops.length * 20) problems.push(`routes never fuzzed: ${missed.join(', ')}`);
  return {
    attack: 'fuzz: every REST route of the OpenAPI document',
    runs: sent,
    violations: [...new Set(problems)].slice(0, 20),
    facts: {
      seed,
      routes: ops.length,
      routesHit: routesHit.size,
      seconds: Math.round(seconds),
      perSecond: Math.round(sent / seconds),
      statuses: JSON.stringify(statuses),
      slowestMs: Math.round(slowestMs),
      [`over${SLOW_MS / 1000}s`]: JSON.stringify(slow),
    },
  };
}
