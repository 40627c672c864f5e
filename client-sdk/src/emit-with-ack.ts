import type { EventsMap } from '@socket.io/component-emitter';
import type { Socket } from 'socket.io-client';
import { localError, RoomcastError } from './errors.js';
import type { Ack } from './protocol.js';

/** The payload of event `E` of a client-to-server event map. */
export type PayloadOf<M, E extends keyof M> = M[E] extends (payload: infer P, ack: never) => void ? P : never;

/** The data of event `E`'s ack (`{ ok: true, ...data }` without `ok`). */
export type ResultOf<M, E extends keyof M> = M[E] extends (payload: never, ack: (ack: Ack<infer T>) => void) => void ? T : never;

/**
 * What is needed of a socket to emit with an ack and a timeout. Socket.IO's
 * typed `emit` overloads do not fit a caller generic in the event, so the
 * helper reaches the socket through this untyped view, in this one place.
 */
interface AckEmitter {
  readonly connected: boolean;
  timeout(ms: number): { emit(event: string, payload: unknown, ack: (err: Error | null, answer: unknown) => void): unknown };
}

/**
 * Emits a client-to-server event and resolves with its ack data. Rejects with
 * a RoomcastError: the server's `{ ok: false, error }`, `internal` for an
 * answer that is no ack, or a local `unavailable` (`timeout` when no answer
 * came within `timeoutMs`, `disconnected` when the socket dropped first).
 */
export function emitWithAck<L extends EventsMap, M extends EventsMap, E extends keyof M & string>(
  socket: Socket<L, M>,
  event: E,
  payload: PayloadOf<M, E>,
  timeoutMs: number,
): Promise<ResultOf<M, E>> {
  const emitter = socket as unknown as AckEmitter;
  if (!emitter.connected) return Promise.reject(localError('disconnected', `${event}: not connected`));
  return new Promise((resolve, reject) => {
    emitter.timeout(timeoutMs).emit(event, payload, (err, answer) => {
      if (err) {
        return reject(emitter.connected ? localError('timeout', `${event}: no answer within ${timeoutMs} ms`) : localError('disconnected', `${event}: disconnected`));
      }
      const ack = answer as Ack | null;
      if (!ack || typeof ack !== 'object') return reject(new RoomcastError('internal', `${event}: malformed answer`));
      if (!ack.ok) return reject(RoomcastError.fromBody(ack.error));
      const { ok: _ok, ...data } = ack;
      resolve(data as ResultOf<M, E>);
    });
  });
}
