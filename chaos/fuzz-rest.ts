// fast-check over the REST routes' query strings and bodies: whatever comes
// in, the answer is a contract status with the Error shape, never a 500.
import fc from 'fast-check';
import type { AttackRow } from './attacks.js';
import { call, register, type Registered } from './wire.js';

// 405: an empty path id (`PATCH /api/admin/users/`) is the collection's path, which has no PATCH.
const ERROR_STATUSES = new Set([400, 401, 403, 404, 405, 409, 413, 429]);

export async function fuzzRest(url: string, admin: Registered, member: Registered, roomId: string, runs: number): Promise<AttackRow> {
  const problems: string[] = [];
  // Role and ban changes land on a user of their own, so the member's token keeps working for the attacks after this.
  const victim = await register(url, 'restvictim');
  const statuses: Record<string, number> = {};
  // Strings the database or a screen chokes on: NUL, bidi marks and overrides,
  // zero-width characters, very long ones; lone surrogates only in JSON bodies
  // (a URL cannot carry one: encodeURIComponent refuses it).
  const awkwardQuery = fc.constantFrom('\u0000', 'a\u0000b', '\u202Eevil', '\u200F', '\u200B', '\u2066x\u2069', 'x'.repeat(2_000));
  const awkward = fc.oneof(awkwardQuery, fc.constantFrom('\ud800', 'x\udfff', '\udc00\ud800', 'x'.repeat(10_000), 'Cafe\u0301', '\u3164'));
  const text = (maxLength: number) => fc.oneof(fc.string({ maxLength }), awkward);
  const value = fc.oneof(fc.integer({ min: -5, max: 300 }).map(String), fc.constantFrom('9223372036854775808', '1e20', '99999999999999', '-0', '0x10', ' 5', ''), fc.string({ maxLength: 20 }), fc.uuid(), awkwardQuery);
  const key = fc.constantFrom('afterSeq', 'beforeSeq', 'limit', 'q', 'cursor', 'afterSeq[]', 'limit[__proto__]', '__proto__', 'constructor[prototype][x]');
  const query = fc.array(fc.tuple(key, value), { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(v)}`).join('&'));
  const body = fc.oneof(
    fc.record({ name: fc.oneof(text(70), fc.anything()), visibility: fc.oneof(fc.constantFrom('public', 'private'), fc.anything()), readOnly: fc.anything(), archived: fc.anything() }, { requiredKeys: [] }),
    fc.record({ role: fc.anything(), banned: fc.anything() }, { requiredKeys: [] }),
    fc.record({ login: text(30), password: text(30), refreshToken: text(30) }, { requiredKeys: [] }),
    fc.record({ content: fc.oneof(text(50), fc.anything()), roomId: fc.oneof(fc.constant(roomId), fc.uuid(), fc.anything()) }, { requiredKeys: [] }),
    fc.anything({ maxDepth: 3 }),
  );
  const target = fc.oneof(
    fc.tuple(fc.constant('GET'), query.map((q) => `/api/rooms/${roomId}/messages?${q}`), fc.constant(undefined)),
    fc.tuple(fc.constant('GET'), query.map((q) => `/api/admin/users?${q}`), fc.constant(undefined)),
    fc.tuple(fc.constant('GET'), query.map((q) => `/api/admin/audit?${q}`), fc.constant(undefined)),
    fc.tuple(fc.constant('POST'), fc.constant('/api/rooms'), body),
    fc.tuple(fc.constant('PATCH'), fc.oneof(fc.constant(`/api/rooms/${roomId}`), fc.uuid().map((id) => `/api/rooms/${id}`)), body),
    fc.tuple(fc.constant('PATCH'), fc.oneof(fc.constant(`/api/admin/users/${victim.userId}`), fc.string({ maxLength: 12 }).map((s) => `/api/admin/users/${encodeURIComponent(s)}`)), body),
    fc.tuple(fc.constant('POST'), fc.constant('/api/admin/broadcast'), body),
    fc.tuple(fc.constant('POST'), fc.constantFrom('/api/auth/login', '/api/auth/refresh', '/api/auth/logout'), body),
    fc.tuple(fc.constant('DELETE'), fc.string({ maxLength: 25 }).map((s) => `/api/admin/messages/${encodeURIComponent(s)}`), fc.constant(undefined)),
  );
  let count = 0;
  const seed = Number(process.env.CHAOS_SEED) || Date.now() % 2 ** 31;
  await fc.assert(
    fc.asyncProperty(target, fc.boolean(), async ([method, path, payload], asAdmin) => {
      count++;
      // Never ban or demote the fuzzing admin itself: the victim is the only user target.
      const res = await call(url, method, path, { token: asAdmin ? admin.token : member.token, ...(payload === undefined ? {} : { body: JSON.stringify(payload) ?? 'null' }) });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status >= 500) problems.push(`${method} ${path} answered ${res.status}: ${res.text.slice(0, 160)} for ${JSON.stringify(payload)?.slice(0, 160)}`);
      else if (ERROR_STATUSES.has(res.status)) {
        const error = (res.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
        if (typeof error?.code !== 'string' || typeof error.message !== 'string') problems.push(`${method} ${path} answered ${res.status} without the Error shape: ${res.text.slice(0, 160)}`);
      } else if (![200, 201, 202, 204].includes(res.status)) problems.push(`${method} ${path} answered ${res.status}`);
      return true;
    }),
    { numRuns: runs, seed },
  );
  return { attack: 'fast-check: REST queries and bodies', runs: count, violations: [...new Set(problems)].slice(0, 20), facts: { seed, statuses: JSON.stringify(statuses) } };
}
