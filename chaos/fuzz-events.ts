// Fuzz over every client event of /chat and /admin against a running node:
// every ack arrives, is well-formed, and is a success or one of the codes the
// contract allows for that event; unknown events answer `validation_failed`;
// the node keeps answering /healthz and its memory stays bounded.
//
// The event list is the server's own (server/realtime/unknown-events.ts), so
// a new event is fuzzed the day it is added. Payloads come from fast-check
// arbitraries, drawn in seeded chunks and sent over many sockets with many
// acks in flight on each (pipelining), so 100,000 payloads take minutes.
// Every id the fuzz may write through is one it made itself (its room, its
// message, its victim user) or one that cannot exist, so it is safe to point
// at a shared deployment.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { ADMIN_EVENTS, CHAT_EVENTS } from '../server/realtime/unknown-events.js';
import type { AttackRow } from './attacks.js';
import type { MemoryProbe } from './memory.js';
import { answerOf, call, emitAck, leakProblem, rawSocket, type Registered } from './wire.js';

const BASE = ['validation_failed', 'not_found', 'forbidden'];
/** What each event may answer besides success (contract: the event tables, Limits, and the error list). */
const ALLOWED: Record<string, string[]> = {
  // rate_limited: MAX_ROOMS_PER_SOCKET and JOIN_RATE_LIMIT; every admin change spends ADMIN_ACTION_RATE_LIMIT.
  'room:join': [...BASE, 'rate_limited'],
  'room:leave': BASE,
  // HISTORY_RATE_LIMIT counts room:history and REST history together.
  'room:history': [...BASE, 'rate_limited'],
  'message:send': [...BASE, 'rate_limited', 'read_only', 'muted', 'payload_too_large'],
  'message:edit': [...BASE, 'rate_limited', 'read_only', 'muted', 'payload_too_large'],
  'message:delete': [...BASE, 'read_only'],
  typing: [...BASE, 'muted', 'read_only', 'rate_limited'],
  'room:online': BASE,
  // Change-log pages spend HISTORY_RATE_LIMIT too.
  'room:changes': [...BASE, 'rate_limited'],
  // Reactions: archived is read_only; a new emoji past MAX_REACTION_EMOJIS is conflict.
  'message:react': [...BASE, 'rate_limited', 'read_only', 'muted', 'conflict'],
  'message:unreact': [...BASE, 'rate_limited', 'read_only'],
  'auth:refresh': [...BASE, 'unauthorized', 'token_expired', 'banned'],
  'admin:broadcast': [...BASE, 'rate_limited', 'payload_too_large'],
  'admin:kick': [...BASE, 'rate_limited'],
  'admin:ban': [...BASE, 'rate_limited'],
  'admin:mute': [...BASE, 'rate_limited'],
  'admin:stats': BASE,
};
/** An event this table does not know yet (added to the server since): the codes any event may answer. */
const ANY_EVENT = [...BASE, 'rate_limited'];
/** The answer to an event the namespace does not have (server/realtime/unknown-events.ts). */
const UNKNOWN = 'unknown event';

/** Names socket.io-client refuses to emit (its own events); the server never sees them. */
const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

export interface FuzzUsers {
  /** An admin (the /admin namespace and the admin's /chat socket). */
  admin: Registered;
  member: Registered;
  /** The only user the admin events may target (kick, ban, mute). */
  victim: Registered;
}

export interface EventFuzzOptions {
  runs: number;
  /** Sockets per role (member /chat, admin /chat, admin /admin). */
  socketsPerRole: number;
  /** Acks in flight on each socket. */
  inFlightPerSocket: number;
  /** Largest RSS growth allowed, peak against the start, MiB. */
  rssGrowthMiB: number;
}

interface Fixtures extends FuzzUsers {
  roomId: string;
  messageId: string;
}

type Role = 'memberChat' | 'adminChat' | 'admin';

/** Mostly every key present, sometimes any subset. */
function shaped<T extends Record<string, fc.Arbitrary<unknown>>>(model: T): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: fc.record(model) }, { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) });
}

/** Near-valid payloads per event; an event with no model here gets arbitrary values only. */
function models(fx: Fixtures): Record<string, fc.Arbitrary<unknown>> {
  const id = fc.oneof({ weight: 6, arbitrary: fc.constant(fx.roomId) }, fc.uuid(), fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null), fc.constant('__proto__'));
  const userId = fc.oneof({ weight: 4, arbitrary: fc.constant(fx.victim.userId) }, fc.uuid(), fc.string({ maxLength: 40 }), fc.integer());
  // Message ids: the fuzz's own message, or ids no deployment has (never a small number: on a
  // shared deployment that would be somebody's message, and the admin socket may delete it).
  const messageId = fc.oneof(
    { weight: 4, arbitrary: fc.constant(fx.messageId) },
    fc.constantFrom('9223372036854775807', '9223372036854775808', '9999999999999999999', '0', '-1', '1e3', ' 1', '0x1'),
    fc.bigInt({ min: 10n ** 15n, max: 10n ** 20n }).map(String),
    fc.string({ maxLength: 30 }).filter((s) => !/^\d{1,15}$/.test(s.trim())),
    fc.integer({ max: 0 }),
  );
  const edgeNumbers = fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e20, Number.MAX_SAFE_INTEGER, -0, 1.5);
  const seq = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 200 }) }, edgeNumbers, edgeNumbers.map(String), fc.integer({ min: -5, max: 1_000 }), fc.double(), fc.string({ maxLength: 8 }), fc.constant(null));
  // admin:kick, admin:ban and admin:mute all take minutes (kick and ban optionally).
  const minutes = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 60 }) }, edgeNumbers, fc.integer({ min: -10, max: 100_000 }), fc.double(), fc.string());
  const awkward = fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\u202Eevil', '\u200F', '\u2066x\u2069', 'x'.repeat(10_000));
  const text = fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) }, fc.string({ minLength: 3_990, maxLength: 4_010 }), awkward, fc.constant(''), fc.integer(), fc.constant({ toString: 'x' }));
  // Reactions: real emojis and names mostly (so the distinct-emoji limit is reached too), then near misses.
  const emoji = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('👍', '🎉', '❤️', '🇫🇷', '1️⃣', '👨‍👩‍👧‍👦', ':ok:', ':party_parrot:') },
    fc.string({ maxLength: 12 }).map((s) => `:${s}:`),
    fc.constantFrom('🇫', '👍👍', ' 👍', '1', ':UP:', '👍\u0000', 'x'.repeat(100)),
    fc.string({ maxLength: 8 }),
    awkward,
    fc.integer(),
  );
  return {
    'room:join': fc.record({ roomId: id, afterChange: seq }, { requiredKeys: ['roomId'] }),
    'room:leave': fc.record({ roomId: id }),
    'room:history': fc.oneof(fc.record({ roomId: id, afterSeq: seq, limit: seq }, { requiredKeys: ['roomId'] }), fc.record({ roomId: id, beforeSeq: seq }, { requiredKeys: ['roomId'] }), fc.record({ roomId: id, afterSeq: seq, beforeSeq: seq, limit: seq }, { requiredKeys: ['roomId'] })),
    'message:send': fc.oneof(
      shaped({ roomId: id, content: text, clientMsgId: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, fc.string({ maxLength: 40 })) }),
      // Replies (issue 14): a parent seq, valid or not (missing, deleted, malformed): never internal.
      fc.record({ roomId: id, content: text, clientMsgId: fc.uuid(), replyToSeq: seq }),
    ),
    'message:edit': shaped({ messageId, content: text }),
    'message:delete': fc.record({ messageId }),
    typing: shaped({ roomId: id, typing: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, fc.anything()) }),
    'room:online': shaped({ roomId: id, cursor: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), fc.integer(), awkward), limit: seq }),
    'room:changes': shaped({ roomId: id, after: seq, limit: seq }),
    'message:react': shaped({ messageId, emoji }),
    'message:unreact': shaped({ messageId, emoji }),
    'auth:refresh': fc.record({ token: fc.oneof(fc.string({ maxLength: 300 }), fc.constant(fx.victim.token), awkward, fc.anything()) }),
    // Always one room (ours or none that exists): a broadcast to everyone would reach a shared deployment's users.
    'admin:broadcast': fc.record({ content: text, roomId: id.filter((r) => r !== null) }),
    'admin:kick': shaped({ userId, roomId: id, minutes }),
    'admin:ban': shaped({ userId, banned: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, fc.anything()), minutes }),
    'admin:mute': shaped({ userId, roomId: id, minutes }),
    'admin:stats': fc.anything(),
  };
}

/** A payload for `event`: near-valid mostly, arbitrary sometimes. */
function payloadFor(event: string, near: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const model = near[event];
  const anything = fc.anything({ maxDepth: 3 });
  // An arbitrary object could carry no roomId: admin:broadcast then goes to everyone. Keep it to models.
  if (event === 'admin:broadcast') return model!;
  return model ? fc.oneof({ weight: 4, arbitrary: model }, { weight: 1, arbitrary: anything }) : anything;
}

/** One fuzz step: an event (known or not), the socket role to send it on, a payload. */
type Step = [event: string, role: Role, payload: unknown];

function steps(fx: Fixtures): fc.Arbitrary<Step> {
  const near = models(fx);
  const chat = [...CHAT_EVENTS].map((event) => fc.tuple(fc.constant(event), fc.constantFrom<Role>('memberChat', 'adminChat'), payloadFor(event, near)));
  const admin = [...ADMIN_EVENTS].map((event) => fc.tuple(fc.constant(event), fc.constant<Role>('admin'), payloadFor(event, near)));
  // Events a namespace does not have: random names, Socket.IO's own, prototype keys, the other namespace's events.
  const foreign = (role: Role, known: ReadonlySet<string>, other: ReadonlySet<string>) =>
    fc.tuple(
      fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('error', '__proto__', 'constructor', 'toString', 'message', 'no:such:event', 'ROOM:JOIN', 'room:join ', ...other)).filter((e) => !known.has(e) && !RESERVED.has(e)),
      fc.constant(role),
      fc.anything({ maxDepth: 2 }),
    );
  return fc.oneof(
    ...chat,
    ...admin,
    { weight: 1, arbitrary: foreign('memberChat', CHAT_EVENTS, ADMIN_EVENTS) },
    { weight: 1, arbitrary: foreign('admin', ADMIN_EVENTS, CHAT_EVENTS) },
  );
}

/** Checks one ack against the contract's Ack shape and the event's allowed codes; returns a problem or null. */
export function ackProblem(event: string, ack: unknown, known = true): string | null {
  if (typeof ack !== 'object' || ack === null) return `${event}: ack is not an object: ${JSON.stringify(ack)}`;
  const a = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (!known) return a.ok === false && a.error?.code === 'validation_failed' ? null : `unknown event ${JSON.stringify(event)}: answered ${JSON.stringify(ack).slice(0, 200)}`;
  if (a.ok === true) return null;
  if (a.ok !== false || typeof a.error !== 'object' || a.error === null) return `${event}: malformed ack ${JSON.stringify(ack).slice(0, 200)}`;
  if (typeof a.error.message !== 'string') return `${event}: error without a message`;
  const leak = leakProblem(a.error.message);
  if (leak) return `${event}: the error message gives away ${leak}`;
  if (!(ALLOWED[event] ?? ANY_EVENT).includes(String(a.error.code))) return `${event}: code ${String(a.error.code)} not allowed (${a.error.message})`;
  return null;
}

/** Draws `runs` steps in seeded chunks (fc.sample), so memory stays flat whatever the count. */
function* drawSteps(arbitrary: fc.Arbitrary<Step>, runs: number, seed: number): Generator<Step> {
  const chunk = 1_000;
  for (let drawn = 0, i = 0; drawn < runs; i++) {
    const n = Math.min(chunk, runs - drawn);
    yield* fc.sample(arbitrary, { numRuns: n, seed: seed + i });
    drawn += n;
  }
}

export async function fuzzEvents(url: string, memory: MemoryProbe, users: FuzzUsers, options: EventFuzzOptions): Promise<AttackRow> {
  const { admin, member } = users;
  const problems: string[] = [];
  const room = await call<{ room: { id: string } }>(url, 'POST', '/api/rooms', { token: member.token, body: { name: `fuzz ${randomUUID().slice(0, 8)}` } });
  if (room.status !== 201) throw new Error(`the event fuzz could not create its room: ${room.status} ${room.text.slice(0, 200)}`);
  const roomId = room.body.room.id;
  const fixture = await rawSocket(url, member.token);
  const first = await emitAck(fixture, 'message:send', { roomId, content: 'fixture', clientMsgId: randomUUID() }, 10_000);
  fixture.close();
  const messageId = first.kind === 'ack' && first.ack.ok ? String((first.ack as { message?: { id?: string } }).message?.id) : '9223372036854775807';
  const fx: Fixtures = { ...users, roomId, messageId };

  const tokenOf = (role: Role) => (role === 'memberChat' ? member.token : admin.token);
  const namespaceOf = (role: Role) => (role === 'admin' ? '/admin' : '/chat');
  let disconnects = 0;
  const open = async (role: Role, index: number): Promise<Socket> => {
    const socket = await rawSocket(url, tokenOf(role), namespaceOf(role));
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') return; // our own close at the end
      disconnects++;
      problems.push(`${role}#${index} was disconnected (${reason})`);
    });
    return socket;
  };
  const roles: Role[] = ['memberChat', 'adminChat', 'admin'];
  const pools = new Map<Role, Socket[]>();
  for (const role of roles) pools.set(role, await Promise.all(Array.from({ length: options.socketsPerRole }, (_, i) => open(role, i))));

  // CHAOS_SEED=<n> replays a run (the seed is in the report).
  const seed = Number(process.env.CHAOS_SEED) || Date.now() % 2 ** 31;
  const before = await memory();
  let rssMax = before.rss ?? 0;
  let sent = 0;
  let slowestHealth = 0;
  let slowestAck = 0;
  const answers: Record<string, number> = {};
  const started = performance.now();
  const source = drawSteps(steps(fx), options.runs, seed);
  const reopening = new Map<string, Promise<Socket>>();

  // One worker per in-flight slot: each takes the next step, sends it on a socket of the step's role, awaits the ack.
  const worker = async (slot: number): Promise<void> => {
    for (let next = source.next(); !next.done; next = source.next()) {
      const [event, role, payload] = next.value;
      const n = ++sent;
      const pool = pools.get(role)!;
      const index = slot % pool.length;
      if (!pool[index]!.connected) {
        // Several workers share a socket: the first to find it closed reopens it, the others wait for that.
        const key = `${role}#${index}`;
        if (!reopening.has(key)) reopening.set(key, open(role, index).then((socket) => (pool[index] = socket)).finally(() => reopening.delete(key)));
        const reopened = await reopening.get(key)!.catch((err: Error) => problems.push(`${key} could not reconnect: ${err.message}`) && null);
        if (!reopened) continue;
      }
      const known = (role === 'admin' ? ADMIN_EVENTS : CHAT_EVENTS).has(event);
      const out = await emitAck(pool[index]!, event, payload, 10_000);
      if (out.kind !== 'ack') problems.push(`${event}: no ack (${out.kind}) for ${JSON.stringify(payload)?.slice(0, 200)}`);
      else {
        slowestAck = Math.max(slowestAck, out.ms);
        const answer = known ? answerOf(out.ack) : UNKNOWN;
        answers[answer] = (answers[answer] ?? 0) + 1;
        const problem = ackProblem(event, out.ack, known);
        if (problem) problems.push(`${problem} for ${JSON.stringify(payload)?.slice(0, 200)}`);
      }
      if (n % 250 === 0) {
        const health = await call(url, 'GET', '/healthz').catch(() => null);
        if (health?.status !== 200) problems.push('/healthz did not answer 200 during the fuzz');
        slowestHealth = Math.max(slowestHealth, health?.ms ?? Infinity);
      }
      if (n % 1_000 === 0) rssMax = Math.max(rssMax, (await memory()).rss ?? 0);
    }
  };
  const slots = options.socketsPerRole * options.inFlightPerSocket * roles.length;
  await Promise.all(Array.from({ length: slots }, (_, slot) => worker(slot)));
  const seconds = (performance.now() - started) / 1000;
  for (const pool of pools.values()) for (const socket of pool) socket.close();

  const after = await memory();
  rssMax = Math.max(rssMax, after.rss ?? 0);
  const mib = (bytes: number | null) => (bytes === null ? 'not measured' : Math.round(bytes / 2 ** 20));
  if (before.rss !== null && rssMax - before.rss > options.rssGrowthMiB * 2 ** 20) problems.push(`RSS grew from ${mib(before.rss)} MiB to ${mib(rssMax)} MiB (bound: ${options.rssGrowthMiB} MiB)`);
  const health = await call(url, 'GET', '/healthz').catch(() => null);
  if (health?.status !== 200) problems.push('/healthz did not answer 200 after the fuzz');
  return {
    attack: 'fuzz: every /chat and /admin event, and unknown events',
    runs: sent,
    violations: [...new Set(problems)].slice(0, 20),
    facts: {
      seed,
      events: [...CHAT_EVENTS, ...ADMIN_EVENTS].length,
      sockets: slots / options.inFlightPerSocket,
      inFlight: slots,
      seconds: Math.round(seconds),
      perSecond: Math.round(sent / seconds),
      answers: JSON.stringify(answers),
      disconnects,
      rssBeforeMiB: mib(before.rss),
      rssMaxMiB: before.rss === null ? 'not measured' : mib(rssMax),
      rssAfterMiB: mib(after.rss),
      heapUsedBeforeMiB: mib(before.heapUsed),
      heapUsedAfterMiB: mib(after.heapUsed),
      slowestAckMs: Math.round(slowestAck),
      slowestHealthzMs: Math.round(slowestHealth),
    },
  };
}
