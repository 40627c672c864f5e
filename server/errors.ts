import { ERROR_STATUS, type ErrorBody, type ErrorCode } from './protocol.js';

/** The one error shape of the process: a contract code, a safe message. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Seconds, for `rate_limited` (sent as Retry-After). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const notFound = (what = 'not found') => new AppError('not_found', what);

const INTERNAL = new AppError('internal', 'internal error');
const UNAVAILABLE = new AppError('unavailable', 'service temporarily unavailable, try again');

/** PostgreSQL or network failures that mean "try again", not "bug". */
function isTransientDatabaseError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    // 08 connection exceptions, 57P admin shutdown/crash, 53 resources, 40001/40P01 retryable.
    if (/^(08|57P|53)/.test(code) || code === '40001' || code === '40P01') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code)) return true;
  }
  return /Knex: Timeout acquiring a connection|Connection terminated|connection timeout|Query read timeout|Client has encountered a connection error/i.test(
    err.message,
  );
}

/**
 * Turns anything thrown into an AppError that is safe to show: known errors
 * pass through, database outages become `unavailable`, the rest `internal`
 * (the caller logs the original; no stack or SQL leaves the process).
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isTransientDatabaseError(err)) return UNAVAILABLE;
  return INTERNAL;
}
