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

/** A REST call that answers within the runner's 15 s, whatever the status. */
export function call<T = unknown>(baseUrl: string, method: string, path: string, options: JsonRequestOptions = {}): Promise<JsonAnswer<T>> {
  return requestJson<T>(baseUrl, method, path, { timeoutMs: 15_000, ...options });
}

export async function register(baseUrl: string, prefix = 'u'): Promise<Registered> {
  const username = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
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
