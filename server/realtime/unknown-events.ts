import type { AckFailure, AdminClientToServerEvents, ChatClientToServerEvents } from '../protocol.js';

/** Every event of an event map, once: the compiler refuses a missing or an extra name. */
const eventNames = <Events>(names: Record<keyof Events & string, true>): ReadonlySet<string> => new Set(Object.keys(names));

export const CHAT_EVENTS = eventNames<ChatClientToServerEvents>({
  'room:join': true,
  'room:leave': true,
  'room:history': true,
  'message:send': true,
  'message:edit': true,
  'message:delete': true,
  typing: true,
  'room:online': true,
  'auth:refresh': true,
  'room:changes': true,
  // Read state (docs/protocol.md, "Read state").
  'room:read': true,
  // Reactions (docs/protocol.md, "Reactions").
  'message:react': true,
  'message:unreact': true,
});

export const ADMIN_EVENTS = eventNames<AdminClientToServerEvents>({
  'admin:broadcast': true,
  'admin:kick': true,
  'admin:ban': true,
  'admin:mute': true,
  'admin:stats': true,
});

const UNKNOWN_EVENT: AckFailure = { ok: false, error: { code: 'validation_failed', message: 'no such event on this namespace' } };

interface GuardedSocket {
  use(fn: (packet: [string, ...unknown[]], next: (err?: Error) => void) => void): unknown;
}

/**
 * Socket middleware: an event outside the namespace's `known` events is
 * dropped, and its ack (if any) answered `validation_failed` at once, so a
 * client with a typo or an old protocol learns it instead of waiting for a
 * timeout. One Set lookup per packet. Names like `error` (Socket.IO itself
 * listens to it) or `__proto__` are not known, so they end here too.
 */
export function answerUnknownEvents(socket: GuardedSocket, known: ReadonlySet<string>): void {
  socket.use(guardOf(known));
}

type Guard = Parameters<GuardedSocket['use']>[0];

/** One middleware per set of known events, shared by every socket (issue 18: no closure per socket). */
const guards = new WeakMap<ReadonlySet<string>, Guard>();
function guardOf(known: ReadonlySet<string>): Guard {
  let guard = guards.get(known);
  if (!guard) {
    guard = (packet, next) => {
      if (known.has(packet[0])) return next();
      const ack = packet[packet.length - 1];
      if (typeof ack === 'function') (ack as (answer: AckFailure) => void)(UNKNOWN_EVENT);
    };
    guards.set(known, guard);
  }
  return guard;
}
