import cookieParser from 'cookie-parser';
import cors from 'cors';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../logger.js';
import { AppError, toAppError } from '../errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { OriginPolicy } from '../origins.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { requestContext } from './request-context.js';

export interface HttpAppParts {
  logger: Logger;
  originAllowed: OriginPolicy;
  /** Proxies whose X-Forwarded-For names the client (config.trustProxy); empty: none. */
  trustProxy: readonly string[];
  maxBodyBytes: number;
  /** Routes outside /api: health, readiness, metrics. */
  operations: Router;
  /** Routes under /api, in mounting order. */
  api: { path: string; handlers: express.RequestHandler[] }[];
  /** Counts refused authentication on REST routes. */
  metrics?: Metrics;
  /** The web client's router (see web-client.ts), served at `/`. */
  web?: Router;
}

/** Error codes that mean "who are you / you may not": counted as auth failures. */
const AUTH_FAILURES = new Set(['unauthorized', 'token_expired', 'invalid_credentials', 'refresh_reused', 'forbidden', 'banned']);

/** The Express app: security headers, origin allow-list, JSON bodies, routes, one error handler. */
export function createHttpApp(parts: HttpAppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  // Client IPs (for login limits) come from X-Forwarded-For only when a configured proxy sent it:
  // trusting every private address let any host on the network forge its IP.
  app.set('trust proxy', [...parts.trustProxy]);
  app.use(requestContext(parts.logger));
  // No upgrade-insecure-requests: a node is often reached over plain http (localhost, behind a TLS proxy).
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(parts.operations);

  app.use('/api', rejectForeignOrigins(parts.originAllowed), cors({ origin: true, credentials: true }));
  app.use('/api', express.json({ limit: parts.maxBodyBytes }), cookieParser());
  for (const { path, handlers } of parts.api) app.use(`/api${path}`, ...handlers);

  if (parts.web) app.use(parts.web);
  app.use(notFoundHandler);
  if (parts.metrics) app.use(countAuthFailures(parts.metrics));
  app.use(errorHandler);
  return app;
}

function countAuthFailures(metrics: Metrics) {
  return (err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const { code } = toAppError(err);
    if (AUTH_FAILURES.has(code)) metrics.authFailed(code, 'rest');
    next(err);
  };
}

function rejectForeignOrigins(originAllowed: OriginPolicy) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (originAllowed(req.get('origin'), req.socket.localPort)) return next();
    next(new AppError('forbidden', 'origin not allowed'));
  };
}
