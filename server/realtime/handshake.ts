import type { ExtendedError, Socket } from 'socket.io';
import type { TokenStore } from '../../db/stores/token-store.js';
import type { UserStore } from '../../db/stores/user-store.js';
import type { AccessTokens } from '../auth/access-tokens.js';
import { bearerToken } from '../bearer-token.js';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SocketData } from '../protocol.js';
import { sessionChannel, userChannel } from './channels.js';

type RefusalCode = 'unauthorized' | 'token_expired' | 'forbidden' | 'banned' | 'unavailable';

/** A refused handshake: the client sees `connect_error` with this message and `data.code`. */
function refusal(code: RefusalCode): ExtendedError {
  const err = new Error(code) as ExtendedError;
  err.data = { code };
  return err;
}

export interface HandshakeDeps {
  accessTokens: AccessTokens;
  users: UserStore;
  tokens: TokenStore;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Socket.IO middleware: the access token (auth.token, or an Authorization
 * Bearer header) must be valid, its user must exist and not be banned, its
 * login must not be logged out, and `requireAdmin` namespaces take admins only.
 * The user's current role is read from the database, not from the token.
 */
export function authenticateHandshake(deps: HandshakeDeps, requireAdmin: boolean) {
  return async (socket: Socket<never, never, never, SocketData>, next: (err?: ExtendedError) => void) => {
    const refuse = (code: RefusalCode) => {
      deps.metrics?.authFailed(code, 'handshake');
      deps.logger.info('handshake refused', { socketId: socket.id, namespace: socket.nsp.name, code });
      next(refusal(code));
    };
    try {
      const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const token = typeof fromAuth === 'string' ? fromAuth : bearerToken(socket.handshake.headers.authorization);
      if (!token) return refuse('unauthorized');
      const claims = deps.accessTokens.verify(token);
      const user = await deps.users.findById(claims.userId);
      if (!user) return refuse('unauthorized');
      if (user.banned) return refuse('banned');
      if (claims.sessionId && !(await deps.tokens.isFamilyActive(claims.sessionId))) return refuse('unauthorized');
      if (requireAdmin && user.role !== 'admin') return refuse('forbidden');
      socket.data = {
        userId: user.id,
        username: user.username,
        role: user.role,
        sessionId: claims.sessionId,
        tokenExpiresAt: claims.expiresAt,
      };
      socket.join([userChannel(user.id), ...(claims.sessionId ? [sessionChannel(claims.sessionId)] : [])]);
      next();
    } catch (err) {
      const error = toAppError(err);
      if (error.code === 'token_expired' || error.code === 'unauthorized') return refuse(error.code);
      deps.logger.error('handshake failed', { socketId: socket.id, err });
      refuse(err instanceof AppError ? 'unauthorized' : 'unavailable');
    }
  };
}
