import { ERROR_STATUS, type ErrorBody, type ErrorCode } from './protocol.js';
import { isSessionEnding } from './reasons.js';

/**
 * Every failure the SDK reports: a server answer (REST body or socket ack)
 * or a local one (no network, no ack in time), always with a contract `code`.
 */
export class RoomcastError extends Error {
  /** Always `RoomcastError`. */
  override readonly name = 'RoomcastError';

  constructor(
    /** The contract error code (`not_found`, `rate_limited`, …); local failures use `unavailable`. */
    readonly code: ErrorCode,
    message: string,
    /** Extra data from the server (e.g. validation issues), or `{ reason }` for local failures. */
    readonly details?: unknown,
    /** HTTP status, for REST answers. */
    readonly status?: number,
    /** Seconds to wait before trying again (REST `Retry-After`). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  /** Builds the error from a contract error body. */
  static fromBody(body: ErrorBody, status?: number, retryAfter?: number): RoomcastError {
    return new RoomcastError(isErrorCode(body.code) ? body.code : 'internal', body.message, body.details, status, retryAfter);
  }
}

/** Local reasons carried in `details.reason` of an `unavailable` RoomcastError. */
export type LocalFailure = 'timeout' | 'disconnected' | 'network' | 'closed' | 'left';

/** An `unavailable` error raised by the SDK itself. */
export function localError(reason: LocalFailure, message: string): RoomcastError {
  return new RoomcastError('unavailable', message, { reason });
}

/** The local reason of an error made by `localError`, if it is one. */
export function localReason(err: unknown): LocalFailure | null {
  if (!(err instanceof RoomcastError) || err.code !== 'unavailable') return null;
  const reason = (err.details as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? (reason as LocalFailure) : null;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

/** Turns anything thrown into a RoomcastError (unknown failures become `internal`). */
export function toRoomcastError(err: unknown): RoomcastError {
  if (err instanceof RoomcastError) return err;
  return new RoomcastError('internal', err instanceof Error ? err.message : String(err));
}

/** Whether the error ends the login (its code is one of `SESSION_ENDING_CODES`): retrying cannot help. */
export function endsSession(err: unknown): err is RoomcastError {
  return err instanceof RoomcastError && isSessionEnding(err.code);
}

/** Server answers worth repeating a send for (the server was busy or going down). */
export function isTransient(err: unknown): boolean {
  return err instanceof RoomcastError && (err.code === 'unavailable' || err.code === 'internal');
}
