import type { NextFunction, Request, Response } from 'express';
import { AppError, toAppError } from '../errors.js';

/**
 * Failures to read the request itself, as contract errors. body-parser marks
 * its own with `type`; a corrupt gzip/deflate/br body, a body shorter than
 * its Content-Length or an aborted upload comes as the underlying error with
 * the http-errors `status` 400 and no type (so does a URL the router cannot
 * decode): the client's fault, never a 500 with a zlib stack in the log.
 */
function fromRequestReading(err: unknown): AppError | null {
  if (err instanceof AppError) return null;
  const { type, status } = (err ?? {}) as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large') return new AppError('payload_too_large', 'request body is too large');
  if (type === 'entity.parse.failed') return new AppError('validation_failed', 'request body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported' || status === 400) {
    return new AppError('validation_failed', 'the request could not be read (a corrupt or unsupported body encoding, or a malformed URL)');
  }
  return null;
}

/**
 * The one place HTTP errors become responses: `{ error: { code, message } }`
 * with the contract's status. Unexpected errors are logged with their stack
 * and answered `internal`, never with their text.
 */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  const error = fromRequestReading(err) ?? toAppError(err);
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
