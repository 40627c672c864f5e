// fast-check properties over every client event of /chat and /admin against
// a running node: every ack arrives, is well-formed, and is a success or one
// of the codes the contract allows for that event; the node keeps answering
// /healthz and its RSS stays bounded.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { answerOf, call, emitAck, rawSocket, register, type Registered } from './wire.js';
import { rssBytes } from '../test/support/rss.js';
import type { AttackRow } from './attacks.js';

const BASE = ['validation_failed', 'not_found', 'forbidden'];
/** What each event may answer besides success (contract: the event tables, Limits, and the error list). */
const ALLOWED: Record<string, string[]> = {
  // rate_limited: MAX_ROOMS_PER_SOCKET and JOIN_RATE_LIMIT; every admin change spends ADMIN_ACTION_RATE_LIMIT.
  'room:join': [...BASE, 'rate_limited'],
  'room:leave': BASE,
  'room:history': BASE,
  'message:send': [...BASE, 'rate_limited', 'read_only', 'muted', 'payload_too_large'],
  'message:edit': [...BASE, 'rate_limited', 'read_only', 'muted', 'payload_too_large'],
  'message:delete': [...BASE, 'read_only'],
  typing: [...BASE, 'muted', 'read_only', 'rate_limited'],
  'room:online': BASE,
  'room:changes': BASE,
  'auth:refresh': [...BASE, 'unauthorized', 'token_expired', 'banned'],
  'admin:broadcast': [...BASE, 'rate_limited', 'payload_too_large'],
  'admin:kick': [...BASE, 'rate_limited'],
  'admin:ban': [...BASE, 'rate_limited'],
  'admin:mute': [...BASE, 'rate_limited'],
  'admin:stats': BASE,
};
const CHAT_EVENTS = ['room:join', 'room:leave', 'room:history', 'message:send', 'message:edit', 'message:delete', 'typing', 'room:online', 'auth:refresh', 'room:changes'];
const ADMIN_EVENTS = ['admin:broadcast', 'admin:kick', 'admin:ban', 'admin:mute', 'admin:stats'];

interface Fixtures {
  member: Registered;
  admin: Registered;
  victim: Registered;
  roomId: string;
  messageId: string;
}

/** Mostly every key present, sometimes any subset. */
function shaped<T extends Record<string, fc.Arbitrary<unknown>>>(model: T): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: fc.record(model) }, { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) });
}

function payloadFor(event: string, fx: Fixtures): fc.Arbitrary<unknown> {
  const id = fc.oneof({ weight: 6, arbitrary: fc.constant(fx.roomId) }, fc.uuid(), fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null), fc.constant('__proto__'));
  const userId = fc.oneof({ weight: 4, arbitrary: fc.constant(fx.victim.userId) }, fc.uuid(), fc.string({ maxLength: 40 }), fc.integer());
  const messageId = fc.oneof({ weight: 4, arbitrary: fc.constant(fx.messageId) }, fc.constantFrom('9223372036854775807', '9223372036854775808', '9999999999999999999', '0', '-1', '01', '1e3'), fc.bigInt({ min: -10n, max: 10n ** 20n }).map(String), fc.string({ maxLength: 30 }), fc.integer());
  const edgeNumbers = fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e20, Number.MAX_SAFE_INTEGER, -0, 1.5);
  const seq = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 200 }) }, edgeNumbers, edgeNumbers.map(String), fc.integer({ min: -5, max: 1_000 }), fc.double(), fc.string({ maxLength: 8 }), fc.constant(null));
  // admin:kick, admin:ban and admin:mute all take minutes (kick and ban optionally).
  const minutes = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 60 }) }, edgeNumbers, fc.integer({ min: -10, max: 100_000 }), fc.double(), fc.string());
  const text = fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) }, fc.string({ minLength: 3_990, maxLength: 4_010 }), fc.constant(''), fc.integer(), fc.constant({ toString: 'x' }));
  const near: Record<string, fc.Arbitrary<unknown>> = {
    'room:join': fc.record({ roomId: id, afterChange: seq }, { requiredKeys: ['roomId'] }),
    'room:leave': fc.record({ roomId: id }),
    'room:history': fc.oneof(fc.record({ roomId: id, afterSeq: seq, limit: seq }, { requiredKeys: ['roomId'] }), fc.record({ roomId: id, beforeSeq: seq }, { requiredKeys: ['roomId'] }), fc.record({ roomId: id, afterSeq: seq, beforeSeq: seq, limit: seq }, { requiredKeys: ['roomId'] })),
    'message:send': shaped({ roomId: id, content: text, clientMsgId: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, fc.string({ maxLength: 40 })) }),
    'message:edit': shaped({ messageId, content: text }),
    'message:delete': fc.record({ messageId }),
    typing: shaped({ roomId: id, typing: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, fc.anything()) }),
    'room:online': shaped({ roomId: id, cursor: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), fc.integer()), limit: seq }),
    'room:changes': shaped({ roomId: id, after: seq, limit: seq }),
    'auth:refresh': fc.record({ token: fc.oneof(fc.string({ maxLength: 300 }), fc.constant(fx.victim.token), fc.anything()) }),
    'admin:broadcast': shaped({ content: text, roomId: fc.option(id) }),
    'admin:kick': shaped({ userId, roomId: id, minutes }),
    'admin:ban': shaped({ userId, banned: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, fc.anything()), minutes }),
    'admin:mute': shaped({ userId, roomId: id, minutes }),
    'admin:stats': fc.anything(),
  };
  return fc.oneof({ weight: 4, arbitrary: near[event]! }, { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) });
}

/** Checks one ack against the contract's Ack shape and the event's allowed codes; returns a problem or null. */
export function ackProblem(event: string, ack: unknown): string | null {
  if (typeof ack !== 'object' || ack === null) return `${event}: ack is not an object: ${JSON.stringify(ack)}`;
  const a = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (a.ok === true) return null;
  if (a.ok !== false || typeof a.error !== 'object' || a.error === null) return `${event}: malformed ack ${JSON.stringify(ack).slice(0, 200)}`;
  if (typeof a.error.message !== 'string') return `${event}: error without a message`;
  if (!ALLOWED[event]!.includes(String(a.error.code))) return `${event}: code ${String(a.error.code)} not allowed (${a.error.message})`;
  return null;
}

/** `admin` must be an admin (the first user registered on a fresh database). */
export async function fuzzEvents(url: string, pid: number, runs: number, admin: Registered): Promise<AttackRow> {
  const problems: string[] = [];
  const [member, victim] = await Promise.all([register(url, 'fzmember'), register(url, 'fzvictim')]);
  const room = await call<{ room: { id: string } }>(url, 'POST', '/api/rooms', { token: member.token, body: { name: `fuzz ${randomUUID().slice(0, 8)}` } });
  const memberChat = await rawSocket(url, member.token);
  const first = await emitAck(memberChat, 'message:send', { roomId: room.body.room.id, content: 'fixture', clientMsgId: randomUUID() }, 10_000);
  const messageId = first.kind === 'ack' ? String((first.ack as { message?: { id?: string } }).message?.id) : '1';
  const fx: Fixtures = { member, admin, victim, roomId: room.body.room.id, messageId };
  const sockets: Record<string, Socket> = {
    memberChat,
    adminChat: await rawSocket(url, admin.token),
    admin: await rawSocket(url, admin.token, '/admin'),
  };
  let disconnects = 0;
  for (const [name, socket] of Object.entries(sockets)) {
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') return; // our own close at the end
      disconnects++;
      problems.push(`${name} was disconnected (${reason})`);
    });
  }
  // CHAOS_SEED=<n> replays a run (the seed is in the report).
  const seed = Number(process.env.CHAOS_SEED) || Date.now() % 2 ** 31;
  const rssBefore = rssBytes(pid) ?? 0;
  let rssMax = rssBefore;
  let count = 0;
  let slowestHealth = 0;
  const answers: Record<string, number> = {};
  const arbitrary = fc.oneof(
    ...CHAT_EVENTS.map((event) => fc.tuple(fc.constant(event), fc.constantFrom('memberChat', 'adminChat'), payloadFor(event, fx))),
    ...ADMIN_EVENTS.map((event) => fc.tuple(fc.constant(event), fc.constant('admin'), payloadFor(event, fx))),
  );
  await fc.assert(
    fc.asyncProperty(arbitrary, async ([event, socketName, payload]) => {
      count++;
      const socket = sockets[socketName]!;
      if (!socket.connected) {
        sockets[socketName] = await rawSocket(url, socketName === 'memberChat' ? member.token : admin.token, socketName === 'admin' ? '/admin' : '/chat');
      }
      const out = await emitAck(sockets[socketName]!, event, payload, 10_000);
      if (out.kind !== 'ack') problems.push(`${event}: no ack (${out.kind}) for ${JSON.stringify(payload)?.slice(0, 200)}`);
      else {
        const answer = answerOf(out.ack);
        answers[answer] = (answers[answer] ?? 0) + 1;
        const problem = ackProblem(event, out.ack);
        if (problem) problems.push(`${problem} for ${JSON.stringify(payload)?.slice(0, 200)}`);
      }
      if (count % 25 === 0) {
        const health = await call(url, 'GET', '/healthz').catch(() => null);
        if (health?.status !== 200) problems.push('/healthz did not answer 200 during the fuzz');
        slowestHealth = Math.max(slowestHealth, health?.ms ?? Infinity);
        rssMax = Math.max(rssMax, rssBytes(pid) ?? 0);
      }
      return true;
    }),
    { numRuns: runs, seed },
  );
  for (const socket of Object.values(sockets)) socket.close();
  const rssAfter = rssBytes(pid) ?? 0;
  rssMax = Math.max(rssMax, rssAfter);
  // Bounded: a few hundred small events must not grow the node by more than 200 MB.
  if (rssMax - rssBefore > 200 * 1024 * 1024) problems.push(`RSS grew from ${rssBefore} to ${rssMax} bytes`);
  return {
    attack: 'fast-check: every /chat and /admin event',
    runs: count,
    violations: [...new Set(problems)].slice(0, 20),
    facts: { seed, answers: JSON.stringify(answers), disconnects, rssBeforeMB: Math.round(rssBefore / 2 ** 20), rssMaxMB: Math.round(rssMax / 2 ** 20), slowestHealthzMs: Math.round(slowestHealth) },
  };
}
