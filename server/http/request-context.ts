import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApiKeyActor } from '../admin/actors.js';
import type { Logger } from '../logger.js';
import type { Actor } from '../rooms/room-service.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Request id: the caller's X-Request-Id if it is sane, else a new UUID. */
    id: string;
    /** Logger whose every line carries the request id (and the user id once known). */
    log: Logger;
    /** The authenticated caller, set by `authenticate`. */
    actor?: Actor & { username: string };
    /** The server API key calling, set by `apiKeyGuard`. */
    apiKey?: ApiKeyActor;
  }
}

const SANE_REQUEST_ID = /^[\w.:-]{1,64}$/;
/** Probes that scrapers and load balancers call every few seconds: logged at debug, not info. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Gives each request its id and logger, and writes one access line when the
 * response is done: method, path (never the query string), status, duration,
 * requestId and, once authenticated, userId.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const given = req.get('x-request-id');
    req.id = given && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    req.log = logger.child({ requestId: req.id });
    res.setHeader('X-Request-Id', req.id);
    // 'close' fires for finished and for aborted responses alike.
    res.once('close', () => {
      const path = req.originalUrl.split('?')[0] ?? '';
      req.log.log(PROBES.has(path) ? 'debug' : 'info', 'request', {
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    next();
  };
}

/** The authenticated caller; only for routes behind `authenticate`. */
export function actorOf(req: Request): Actor & { username: string } {
  if (!req.actor) throw new Error('route is missing the authenticate middleware');
  return req.actor;
}

/** The server API key calling; only for routes behind `apiKeyGuard`. */
export function apiKeyOf(req: Request): ApiKeyActor {
  if (!req.apiKey) throw new Error('route is missing the API key guard');
  return req.apiKey;
}
