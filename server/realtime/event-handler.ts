import type { z } from 'zod';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Ack, Role, SocketData } from '../protocol.js';
import { validationDetails } from '../schemas.js';

/** The success data an event's ack carries, read off an event map. */
export type AckData<Events, E extends keyof Events> = Events[E] extends (payload: never, ack: (ack: Ack<infer T>) => void) => void ? T : never;

export interface EventOptions<S extends z.ZodType> {
  schema: S;
  /** Who may emit the event; checked on every emit, not only at connect. */
  role?: Role;
  /** Events allowed after the access token expired (auth:refresh itself). */
  allowExpired?: boolean;
}

interface SocketLike {
  id: string;
  data: SocketData;
}

/**
 * Wraps an event handler so that every emit is answered exactly once with a
 * well-formed Ack: the payload is validated, the role and token expiry are
 * checked, and any error becomes `{ ok: false, error }` with a contract code
 * (unexpected ones logged and answered `internal`, never their text).
 *
 * The listener is made once per namespace and shared by every socket
 * (issue 18: no closures per socket): Socket.IO calls it with the socket as
 * `this`, and the handler gets the socket as its first argument.
 */
export function sharedEventHandler<Events, E extends keyof Events, S extends z.ZodType, K extends SocketLike>(
  logger: Logger,
  event: E,
  options: EventOptions<S>,
  handler: (socket: K, payload: z.output<S>) => Promise<AckData<Events, E>> | AckData<Events, E>,
): (this: K, ...args: unknown[]) => void {
  return function (this: K, ...args: unknown[]) {
    // A client may emit with an ack and no payload: the ack is then the first argument.
    const last = args[args.length - 1];
    const reply = typeof last === 'function' ? (last as (ack: unknown) => void) : ignore;
    const payload = typeof args[0] === 'function' ? undefined : args[0];
    void answer(this, logger, event, options, handler, payload, reply);
  };
}

/** `sharedEventHandler` for one socket, whose handler needs only the payload. */
export function eventHandler<Events, E extends keyof Events, S extends z.ZodType>(
  socket: SocketLike,
  logger: Logger,
  event: E,
  options: EventOptions<S>,
  handler: (payload: z.output<S>) => Promise<AckData<Events, E>> | AckData<Events, E>,
): (...args: unknown[]) => void {
  const shared = sharedEventHandler<Events, E, S, SocketLike>(logger, event, options, (_socket, payload) => handler(payload));
  return (...args: unknown[]) => shared.apply(socket, args);
}

const ignore = () => {};

/**
 * Checks, runs and answers one emit. A plain function of its arguments, not
 * closures made per emit (issue 18: this runs for every message:send).
 */
async function answer<S extends z.ZodType, R extends object, K extends SocketLike>(
  socket: K,
  logger: Logger,
  event: PropertyKey,
  options: EventOptions<S>,
  handler: (socket: K, payload: z.output<S>) => Promise<R> | R,
  payload: unknown,
  reply: (ack: unknown) => void,
): Promise<void> {
  let ack: Ack<object>;
  try {
    if (options.role === 'admin' && socket.data.role !== 'admin') throw new AppError('forbidden', 'admins only');
    if (!options.allowExpired && Date.now() >= socket.data.tokenExpiresAt) throw new AppError('token_expired', 'access token expired; send auth:refresh');
    const parsed = options.schema.safeParse(payload);
    if (!parsed.success) throw new AppError('validation_failed', 'invalid payload', validationDetails(parsed.error));
    ack = { ok: true, ...(await handler(socket, parsed.data)) };
  } catch (err) {
    const error = toAppError(err);
    if (error.code === 'internal' || error.code === 'unavailable') eventLogger(logger, socket, event).error('event failed', { err });
    ack = { ok: false, error: error.toBody() };
  }
  try {
    reply(ack);
  } catch (err) {
    eventLogger(logger, socket, event).warn('could not send an ack', { err });
  }
}

/** The logger of one socket's event, made only when there is something to log. */
function eventLogger(logger: Logger, socket: SocketLike, event: PropertyKey): Logger {
  return logger.child({ socketId: socket.id, userId: socket.data.userId, event: String(event) });
}
