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
 */
export function eventHandler<Events, E extends keyof Events, S extends z.ZodType>(
  socket: SocketLike,
  logger: Logger,
  event: E,
  options: EventOptions<S>,
  handler: (payload: z.output<S>) => Promise<AckData<Events, E>> | AckData<Events, E>,
): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    // A client may emit with an ack and no payload: the ack is then the first argument.
    const last = args[args.length - 1];
    const reply = typeof last === 'function' ? (last as (ack: unknown) => void) : () => {};
    const payload = typeof args[0] === 'function' ? undefined : args[0];
    void answer(reply, async () => {
      if (options.role === 'admin' && socket.data.role !== 'admin') throw new AppError('forbidden', 'admins only');
      if (!options.allowExpired && Date.now() >= socket.data.tokenExpiresAt) throw new AppError('token_expired', 'access token expired; send auth:refresh');
      const parsed = options.schema.safeParse(payload);
      if (!parsed.success) throw new AppError('validation_failed', 'invalid payload', validationDetails(parsed.error));
      return handler(parsed.data);
    }, () => logger.child({ socketId: socket.id, userId: socket.data.userId, event: String(event) }));
  };
}

async function answer(reply: (ack: unknown) => void, work: () => Promise<object>, log: () => Logger): Promise<void> {
  let ack: Ack<object>;
  try {
    ack = { ok: true, ...(await work()) };
  } catch (err) {
    const error = toAppError(err);
    if (error.code === 'internal' || error.code === 'unavailable') log().error('event failed', { err });
    ack = { ok: false, error: error.toBody() };
  }
  try {
    reply(ack);
  } catch (err) {
    log().warn('could not send an ack', { err });
  }
}
