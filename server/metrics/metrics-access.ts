import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { bearerToken } from '../bearer-token.js';
import { AppError } from '../errors.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Guards GET /metrics. With METRICS_TOKEN set, a scraper must present it as
 * `Authorization: Bearer <token>` (401 otherwise). Unset, only a request made
 * straight from this host is served: the peer address must be loopback and no
 * proxy header may be present, so a reverse proxy on the same host (whose
 * requests come from loopback too) does not publish the metrics (403).
 */
export function metricsAccess(token: string | null) {
  const expected = token === null ? null : digest(token);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (expected) {
      const given = bearerToken(req.get('authorization'));
      // Equal-length digests, so the comparison takes the same time whatever was sent.
      if (given && timingSafeEqual(digest(given), expected)) return next();
      return next(new AppError('unauthorized', 'metrics need the METRICS_TOKEN bearer token'));
    }
    const direct = LOOPBACK.test(req.socket.remoteAddress ?? '') && !req.get('x-forwarded-for') && !req.get('forwarded');
    if (direct) return next();
    next(new AppError('forbidden', 'metrics are served to loopback only; set METRICS_TOKEN to scrape from elsewhere'));
  };
}
