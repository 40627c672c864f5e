import type { NextFunction, Request, Response } from 'express';
import type { ApiKeys } from '../admin/api-keys.js';
import { bearerToken } from '../bearer-token.js';
import type { ApiKeyScope } from '../protocol.js';

/**
 * REST adapter of the server API key check (ApiKeys.authorize): the bearer
 * key must be live (`unauthorized`), carry the route's scope (`forbidden`)
 * and be within its rate limit (`rate_limited`).
 */
export function apiKeyGuard(keys: ApiKeys, scope: ApiKeyScope) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const key = await keys.authorize(bearerToken(req.get('authorization')), scope);
    req.apiKey = key;
    req.log = req.log.child({ apiKeyId: key.keyId });
    next();
  };
}
