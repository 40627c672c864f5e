// Contract-level helpers: REST calls with fetch and raw Socket.IO sockets.
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { Ack } from '../client-sdk/src/protocol.js';
import { requestJson, type JsonAnswer, type JsonRequestOptions } from '../test/support/http-json.js';

export interface Registered {
  token: string;
  userId: string;
  username: string;
  password: string;
}

/**
 * What this run made on the server: the rooms created through `call` (and
 * those added by hand), and the tag every user name it registers starts
 * with, so a run against a shared deployment can tidy up after itself.
 */
export const made = { tag: '', roomIds: new Set<string>() };

/** Starts every user name this run registers with `tag` (letters, digits, `_`; keep it short). */
export function useRunTag(tag: string): void {
  made.tag = tag;
}

/** A user name for this run: the run's tag, `prefix`, and `random` hex characters. */
export const runUsername = (prefix: string, random = 12) => `${made.tag}${prefix}_${randomUUID().replace(/-/g, '').slice(0, random)}`;

/** A REST call that answers within the runner's 15 s, whatever the status. */
export async function call<T = unknown>(baseUrl: string, method: string, path: string, options: JsonRequestOptions = {}): Promise<JsonAnswer<T>> {
  const answer = await requestJson<T>(baseUrl, method, path, { timeoutMs: 15_000, ...options });
  if (method === 'POST' && path === '/api/rooms' && answer.status === 201) {
    const id = (answer.body as { room?: { id?: unknown } } | null)?.room?.id;
    if (typeof id === 'string') made.roomIds.add(id);
  }
  return answer;
}

/**
 * What an answer's text gives away that it must not: a stack trace, a
 * source path, or the database's own words. Returns the problem or null.
 */
export function leakProblem(text: string): string | null {
  const patterns: Array<[RegExp, string]> = [
    [/\n\s+at [\w.<>$[\] ]+ \(|\bat (?:async )?[\w.]+ \([^)]*:\d+:\d+\)/, 'a stack trace'],
    [/(?:\/|\\)(?:node_modules|server|db)(?:\/|\\)[\w/\\.-]+\.[jt]s\b/, 'a source path'],
    [/\b(?:syntax error at or near|violates (?:unique|foreign key|check|not-null) constraint|invalid input syntax for|relation "[\w.]+" does not exist|column "[\w.]+" (?:of relation|does not exist)|out of range for type|invalid byte sequence for encoding|unterminated quoted string)\b/i, 'a database error'],
    [/\b(?:select\s.{1,120}?\sfrom\s+\\?["\w]|insert\s+into\s+\\?["\w].{0,120}?\bvalues\b|update\s+\\?["\w]+\\?"?\s+set\s|delete\s+from\s+\\?"\w)/i, 'an SQL statement'],
  ];
  for (const [pattern, what] of patterns) {
    const match = pattern.exec(text);
    if (match) return `${what}: …${text.slice(Math.max(0, match.index - 40), match.index + 80)}…`;
  }
  return null;
}

export async function register(baseUrl: string, prefix = 'u'): Promise<Registered> {
  const username = runUsername(prefix);
  const password = `pw-${username}-secret`;
  const res = await call<{ accessToken: string; user: { id: string } }>(baseUrl, 'POST', '/api/auth/register', {
    body: { username, email: `${username}@chaos.test`, password },
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${res.text}`);
  return { token: res.body.accessToken, userId: res.body.user.id, username, password };
}

/** A connected raw Socket.IO socket (websocket, no reconnection). */
export function rawSocket(baseUrl: string, token: string, namespace = '/chat'): Promise<Socket> {
  const socket = io(`${baseUrl}${namespace}`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5_000 });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** An ack as it came over the wire: the contract's shape, until a check says otherwise. */
export type WireAck = Ack<Record<string, unknown>>;

/** The code of a failed ack, or 'ok'. */
export const answerOf = (ack: WireAck): string => (ack.ok ? 'ok' : String(ack.error?.code));

export type AckOutcome = { kind: 'ack'; ack: WireAck; ms: number } | { kind: 'timeout'; ms: number } | { kind: 'disconnected'; ms: number };

/** Emits and waits for the ack, at most `timeoutMs`. */
export function emitAck(socket: Socket, event: string, payload: unknown, timeoutMs: number): Promise<AckOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    if (!socket.connected) return resolve({ kind: 'disconnected', ms: 0 });
    const timer = setTimeout(() => done({ kind: 'timeout', ms: performance.now() - started }), timeoutMs);
    const onDisconnect = () => done({ kind: 'disconnected', ms: performance.now() - started });
    const done = (outcome: AckOutcome) => {
      clearTimeout(timer);
      socket.off('disconnect', onDisconnect);
      resolve(outcome);
    };
    socket.once('disconnect', onDisconnect);
    socket.emit(event, payload, (ack: WireAck) => done({ kind: 'ack', ack, ms: performance.now() - started }));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
