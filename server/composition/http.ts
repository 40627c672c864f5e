import type { Express, Router } from 'express';
import type { Config } from '../config.js';
import { apiKeyGuard } from '../http/api-key-guard.js';
import { authenticate } from '../http/authenticate.js';
import { createHttpApp } from '../http/http-app.js';
import { restApi } from '../http/rest-api.js';
import { adminRoutes } from '../http/routes/admin-routes.js';
import { apiKeyRoutes } from '../http/routes/api-key-routes.js';
import { authRoutes } from '../http/routes/auth-routes.js';
import { healthRoutes, type ReadinessCheck } from '../http/routes/health-routes.js';
import { jwksRoutes } from '../http/routes/jwks-routes.js';
import { roomAdminRoutes } from '../http/routes/room-admin-routes.js';
import { memberRoutes } from '../http/routes/member-routes.js';
import { readRoutes } from '../http/routes/read-routes.js';
import { roomRoutes } from '../http/routes/room-routes.js';
import { serverRoutes } from '../http/routes/server-routes.js';
import { webhookRoutes } from '../http/routes/webhook-routes.js';
import type { Logger } from '../logger.js';
import { metricsAccess } from '../metrics/metrics-access.js';
import type { Metrics } from '../metrics/metrics.js';
import type { OriginPolicy } from '../origins.js';
import type { Domain } from './domain.js';
import type { Stores } from './stores.js';

/** The API version in the OpenAPI document: the wire contract's. */
const APP_VERSION = '1.0.0';

export interface HttpParts {
  config: Config;
  stores: Stores;
  domain: Domain;
  /** What /readyz checks: the database, and Redis when clustered. */
  readiness: ReadinessCheck[];
  /** True once the node is closing: /readyz then answers 503. */
  isDraining: () => boolean;
  originAllowed: OriginPolicy;
  web: Router;
  logger: Logger;
  metrics: Metrics;
}

/** Step 6: the Express app: the REST route table (operations, API, docs) and the web client. */
export function buildHttp({ config, stores, domain, readiness, isDraining, originAllowed, web, logger, metrics }: HttpParts): Express {
  const { auth, rooms, reads, admin, authentication, accessTokens, apiKeys, serverApi } = domain;
  const rest = restApi(
    [
      ...authRoutes({ auth, users: stores.users, refreshTtlSeconds: config.refreshTokenTtl }),
      ...roomRoutes(rooms, metrics),
      ...readRoutes(reads),
      ...roomAdminRoutes(admin),
      ...memberRoutes(domain.memberships),
      ...adminRoutes(admin, config.maxMessageLength),
      ...apiKeyRoutes(apiKeys),
      ...serverRoutes(serverApi, admin, config.maxMessageLength),
      ...webhookRoutes(domain.webhooks),
      ...healthRoutes(readiness, metrics.registry, isDraining),
      ...jwksRoutes(accessTokens.publicKeys),
    ],
    // The middleware of each access rule.
    {
      anyone: [],
      refresh: [],
      user: [authenticate(authentication)],
      admin: [authenticate(authentication, 'admin')],
      scraper: [metricsAccess(config.metricsToken)],
      server: (scope) => [apiKeyGuard(apiKeys, scope)],
    },
    { version: APP_VERSION },
  );
  return createHttpApp({
    logger,
    originAllowed,
    trustProxy: config.trustProxy,
    maxBodyBytes: config.maxPacketBytes,
    operations: rest.operations,
    metrics,
    api: [{ path: '', handlers: [rest.api] }],
    web,
  });
}
