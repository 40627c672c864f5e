import type { NextFunction, Request, Response } from 'express';
import { AppError, toAppError } from '../errors.js';

/** body-parser's failures, as contract errors. */
function fromBodyParser(err: unknown): AppError | null {
  const type = (err as { type?: unknown })?.type;
  if (type === 'entity.too.large') return new AppError('payload_too_large', 'request body is too large');
  if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError('validation_failed', 'request body is not valid JSON');
  }
  return null;
}

/**
 * The one place HTTP errors become responses: `{ error: { code, message } }`
 * with the contract's status. Unexpected errors are logged with their stack
 * and answered `internal`, never with their text.
 */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  const error = fromBodyParser(err) ?? toAppError(err);
  // A refusal the server chose (a full password pool, a drain) is a warning with
  // its reason; a failure (a bug, a lost database) is an error with its stack.
  if (err instanceof AppError && err.code === 'unavailable') req.log.warn('request refused', { code: err.code, reason: err.message, method: req.method, path: req.path });
  else if (error.code === 'internal' || error.code === 'unavailable') req.log.error('request failed', { err, method: req.method, path: req.path });
  if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(error.retryAfter));
  if (res.headersSent) return void res.end();
  res.status(error.status).json({ error: error.toBody() });
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction): void {
  next(new AppError('not_found', 'no such route'));
}
