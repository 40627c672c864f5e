import type { NextFunction, Request, Response } from 'express';
import type { UserStore } from '../../db/stores/user-store.js';
import type { AccessTokens } from '../auth/access-tokens.js';
import { bearerToken } from '../bearer-token.js';
import { AppError } from '../errors.js';
import type { Role } from '../protocol.js';

/**
 * Requires a valid access token; the user is read on every request so a ban
 * or role change applies at once. `role: 'admin'` limits a route to admins.
 */
export function authenticate(deps: { accessTokens: AccessTokens; users: UserStore }, role?: Role) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw new AppError('unauthorized', 'missing bearer token');
    const claims = deps.accessTokens.verify(token);
    const user = await deps.users.findById(claims.userId);
    if (!user) throw new AppError('unauthorized', 'invalid access token');
    if (user.banned) throw new AppError('banned', 'this account is banned');
    if (role === 'admin' && user.role !== 'admin') throw new AppError('forbidden', 'admins only');
    req.actor = { userId: user.id, role: user.role, username: user.username };
    req.log = req.log.child({ userId: user.id });
    next();
  };
}
