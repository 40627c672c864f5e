import type { NextFunction, Request, Response } from 'express';
import { bearerToken } from '../bearer-token.js';
import type { Access, TokenAuthentication } from '../auth/token-authentication.js';

/**
 * REST adapter of the token check: the bearer token must authenticate (see
 * TokenAuthentication); its AppError reaches the error handler as is.
 * `access: 'admin'` limits a route to admins.
 */
export function authenticate(authentication: TokenAuthentication, access: Access = 'user') {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const principal = await authentication.authenticate(bearerToken(req.get('authorization')), access);
    req.actor = { userId: principal.userId, role: principal.role, username: principal.username };
    req.log = req.log.child({ userId: principal.userId });
    next();
  };
}
