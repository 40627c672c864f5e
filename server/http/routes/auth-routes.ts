import { Router, type CookieOptions, type Request, type Response } from 'express';
import type { UserStore } from '../../../db/stores/user-store.js';
import { publicUser } from '../../../db/stores/user-store.js';
import type { AccessTokens } from '../../auth/access-tokens.js';
import type { AuthService, IssuedSession, RotatedSession } from '../../auth/auth-service.js';
import { AppError } from '../../errors.js';
import type { AuthResponse, RefreshResponse } from '../../protocol.js';
import { loginSchema, refreshSchema, registerSchema } from '../../schemas.js';
import { authenticate } from '../authenticate.js';
import { actorOf } from '../request-context.js';
import { parse } from '../validate.js';

export const REFRESH_COOKIE = 'roomcast_refresh';

/** The address the per-IP limits count (X-Forwarded-For only from the proxies Express trusts). */
const clientIp = (req: Request) => req.ip ?? 'unknown';

export interface AuthRouteDeps {
  auth: AuthService;
  users: UserStore;
  accessTokens: AccessTokens;
  refreshTtlSeconds: number;
}

/** /api/auth/* and /api/me. Browser mode keeps the refresh token in an HttpOnly cookie; native mode in the body. */
export function authRoutes(deps: AuthRouteDeps): Router {
  const router = Router();
  const cookieOptions: CookieOptions = { httpOnly: true, secure: true, sameSite: 'strict', path: '/api/auth' };

  const sendRefreshToken = (res: Response, session: IssuedSession | RotatedSession, body: { refreshToken?: string }) => {
    if (session.client === 'native') body.refreshToken = session.refreshToken;
    else res.cookie(REFRESH_COOKIE, session.refreshToken, { ...cookieOptions, maxAge: deps.refreshTtlSeconds * 1000 });
  };

  const presentedToken = (req: Request): string => {
    const fromCookie = (req.cookies as Record<string, unknown> | undefined)?.[REFRESH_COOKIE];
    const { refreshToken } = parse(refreshSchema, req.body);
    const token = refreshToken ?? (typeof fromCookie === 'string' ? fromCookie : undefined);
    if (!token) throw new AppError('unauthorized', 'no refresh token');
    return token;
  };

  router.post('/auth/register', async (req, res) => {
    const session = await deps.auth.register(parse(registerSchema, req.body), clientIp(req));
    const body: AuthResponse = { user: session.user, accessToken: session.accessToken, expiresIn: session.expiresIn };
    sendRefreshToken(res, session, body);
    res.status(201).json(body);
  });

  router.post('/auth/login', async (req, res) => {
    const session = await deps.auth.login(parse(loginSchema, req.body), clientIp(req));
    const body: AuthResponse = { user: session.user, accessToken: session.accessToken, expiresIn: session.expiresIn };
    sendRefreshToken(res, session, body);
    res.json(body);
  });

  router.post('/auth/refresh', async (req, res) => {
    const session = await deps.auth.refresh(presentedToken(req), clientIp(req));
    const body: RefreshResponse = { accessToken: session.accessToken, expiresIn: session.expiresIn };
    sendRefreshToken(res, session, body);
    res.json(body);
  });

  router.post('/auth/logout', async (req, res) => {
    await deps.auth.logout(presentedToken(req));
    res.clearCookie(REFRESH_COOKIE, cookieOptions);
    res.status(204).end();
  });

  router.get('/me', authenticate(deps), async (req, res) => {
    const user = await deps.users.findById(actorOf(req).userId);
    if (!user) throw new AppError('unauthorized', 'user no longer exists');
    res.json({ user: publicUser(user, true) });
  });

  return router;
}
