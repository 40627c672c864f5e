import type { ExtendedError, Socket } from 'socket.io';
import { bearerToken } from '../bearer-token.js';
import type { Access, TokenAuthentication } from '../auth/token-authentication.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SocketData } from '../protocol.js';
import { sessionChannel, userChannel } from './channels.js';

const AUTH_REFUSALS = ['unauthorized', 'token_expired', 'forbidden', 'banned'] as const;
type RefusalCode = (typeof AUTH_REFUSALS)[number] | 'unavailable';
const isAuthRefusal = (code: string): code is (typeof AUTH_REFUSALS)[number] => (AUTH_REFUSALS as readonly string[]).includes(code);

/** A refused handshake: the client sees `connect_error` with this message and `data.code`. */
function refusal(code: RefusalCode): ExtendedError {
  const err = new Error(code) as ExtendedError;
  err.data = { code };
  return err;
}

export interface HandshakeDeps {
  authentication: TokenAuthentication;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Socket.IO adapter of the token check: the access token (auth.token, or an
 * Authorization Bearer header) must authenticate (see TokenAuthentication),
 * with `access: 'admin'` for /admin; the socket then joins its user's and
 * its login's channels.
 */
export function authenticateHandshake(deps: HandshakeDeps, access: Access) {
  return async (socket: Socket<never, never, never, SocketData>, next: (err?: ExtendedError) => void) => {
    const refuse = (code: RefusalCode) => {
      deps.metrics?.authFailed(code, 'handshake');
      deps.logger.info('handshake refused', { socketId: socket.id, namespace: socket.nsp.name, code });
      next(refusal(code));
    };
    try {
      const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const token = typeof fromAuth === 'string' ? fromAuth : bearerToken(socket.handshake.headers.authorization);
      const principal = await deps.authentication.authenticate(token, access);
      socket.data = principal;
      socket.join([userChannel(principal.userId), ...(principal.sessionId ? [sessionChannel(principal.sessionId)] : [])]);
      next();
    } catch (err) {
      if (err instanceof AppError && isAuthRefusal(err.code)) return refuse(err.code);
      // Anything else means the token could not be checked (e.g. the database did not answer).
      deps.logger.error('handshake failed', { socketId: socket.id, err });
      refuse(err instanceof AppError ? 'unauthorized' : 'unavailable');
    }
  };
}
