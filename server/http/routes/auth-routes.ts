import type { CookieOptions, Request, Response } from 'express';
import type { UserStore } from '../../../db/stores/user-store.js';
import { publicUser } from '../../../db/stores/user-store.js';
import type { AuthService, IssuedSession, RotatedSession } from '../../auth/auth-service.js';
import { AppError } from '../../errors.js';
import type { AuthResponse, RefreshResponse } from '../../protocol.js';
import { loginSchema, refreshSchema, registerSchema } from '../../schemas.js';
import * as R from '../response-schemas.js';
import { route, type Route } from '../route-table/route.js';
import { withCurrentBan } from '../../auth/ban.js';

export const REFRESH_COOKIE = 'roomcast_refresh';

export interface AuthRouteDeps {
  auth: AuthService;
  users: UserStore;
  refreshTtlSeconds: number;
}

const refreshBody = refreshSchema.meta({ id: 'RefreshRequest' });

/** /api/auth/* and /api/me. Browser mode keeps the refresh token in an HttpOnly cookie; native mode in the body. */
export function authRoutes(deps: AuthRouteDeps): Route[] {
  const cookieOptions: CookieOptions = { httpOnly: true, secure: true, sameSite: 'strict', path: '/api/auth' };

  const sendRefreshToken = (res: Response, session: IssuedSession | RotatedSession, body: { refreshToken?: string }) => {
    if (session.client === 'native') body.refreshToken = session.refreshToken;
    else res.cookie(REFRESH_COOKIE, session.refreshToken, { ...cookieOptions, maxAge: deps.refreshTtlSeconds * 1000 });
  };

  const signedIn = (res: Response, session: IssuedSession): AuthResponse => {
    const body: AuthResponse = { user: session.user, accessToken: session.accessToken, expiresIn: session.expiresIn };
    sendRefreshToken(res, session, body);
    return body;
  };

  /** The body's token wins over the cookie: a native client may run in a browser that also holds one. */
  const presentedToken = (req: Request, fromBody: string | undefined): string => {
    const fromCookie = (req.cookies as Record<string, unknown> | undefined)?.[REFRESH_COOKIE];
    const token = fromBody ?? (typeof fromCookie === 'string' ? fromCookie : undefined);
    if (!token) throw new AppError('unauthorized', 'no refresh token');
    return token;
  };

  return [
    route({
      method: 'post', path: '/api/auth/register', tag: 'auth', access: 'anyone',
      summary: 'Create an account (the first one becomes admin) and sign in',
      body: registerSchema.meta({ id: 'RegisterRequest' }),
      example: { username: 'ada_l', email: 'ada@example.com', password: 'correct horse battery', client: 'native' },
      success: { status: 201, description: 'Signed in. Browser mode sets the roomcast_refresh cookie; native mode returns refreshToken.', schema: R.authResponseSchema },
      errors: ['conflict', 'registration_closed', 'rate_limited', 'unavailable'],
      handle: async ({ body }, { res, ip }) => signedIn(res, await deps.auth.register(body, ip)),
    }),
    route({
      method: 'post', path: '/api/auth/login', tag: 'auth', access: 'anyone',
      summary: 'Sign in with username or email (case-insensitive) and password',
      body: loginSchema.meta({ id: 'LoginRequest' }),
      example: { login: 'ada@example.com', password: 'correct horse battery' },
      success: { status: 200, description: 'Signed in', schema: R.authResponseSchema },
      errors: ['invalid_credentials', 'forbidden', 'banned', 'rate_limited', 'unavailable'],
      handle: async ({ body }, { res, ip }) => signedIn(res, await deps.auth.login(body, ip)),
    }),
    route({
      method: 'post', path: '/api/auth/refresh', tag: 'auth', access: 'refresh',
      summary: 'Rotate the refresh token (cookie, or refreshToken in the body) for a new access token',
      body: refreshBody,
      example: { refreshToken: 'rt_example' },
      success: { status: 200, description: 'A new access token (and, in native mode, a new refresh token)', schema: R.refreshResponseSchema },
      errors: ['unauthorized', 'forbidden', 'refresh_reused', 'banned', 'rate_limited', 'unavailable'],
      handle: async ({ body }, { req, res, ip }) => {
        const session = await deps.auth.refresh(presentedToken(req, body.refreshToken), ip);
        const answer: RefreshResponse = { accessToken: session.accessToken, expiresIn: session.expiresIn };
        sendRefreshToken(res, session, answer);
        return answer;
      },
    }),
    route({
      method: 'post', path: '/api/auth/logout', tag: 'auth', access: 'refresh',
      summary: 'Revoke the refresh token\'s login and end its sockets',
      body: refreshBody,
      example: {},
      success: { status: 204, description: 'Signed out (also for an unknown token)' },
      errors: ['unauthorized', 'unavailable'],
      handle: async ({ body }, { req, res }) => {
        await deps.auth.logout(presentedToken(req, body.refreshToken));
        res.clearCookie(REFRESH_COOKIE, cookieOptions);
      },
    }),
    route({
      method: 'get', path: '/api/me', tag: 'auth', access: 'user',
      summary: 'The signed-in user, with email',
      success: { status: 200, description: 'The caller', schema: R.userResponseSchema },
      handle: async (_input, { actor }) => {
        const user = await deps.users.findById(actor.userId);
        if (!user) throw new AppError('unauthorized', 'user no longer exists');
        return { user: publicUser(withCurrentBan(user), true) };
      },
    }),
  ];
}
