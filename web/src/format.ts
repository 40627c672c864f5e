// Words for the user: times, errors, why a session ended.
import { RoomcastError, type CloseReason } from '../../client-sdk/src/index.js';

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

export const formatTime = (iso: string): string => time.format(new Date(iso));
export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));

const ERROR_TEXT: Partial<Record<string, string>> = {
  invalid_credentials: 'Wrong username/email or password.',
  conflict: 'That name is already taken.',
  registration_closed: 'Sign-ups are closed on this server.',
  rate_limited: 'Too many attempts: wait a moment and try again.',
  muted: 'You are muted in this room.',
  read_only: 'This room is read-only.',
  not_found: 'Not found (or you cannot see it).',
  forbidden: 'You are not allowed to do that.',
  banned: 'This account is banned.',
  payload_too_large: 'That is too long.',
};

/** A short, human sentence for any failure. */
export function describeError(err: unknown): string {
  if (err instanceof RoomcastError) {
    if (err.code === 'validation_failed') return `Please check the form: ${err.message}`;
    if (err.code === 'unavailable') return 'The server cannot be reached right now.';
    const text = ERROR_TEXT[err.code];
    if (err.code === 'rate_limited' && err.retryAfter) return `Too many attempts: try again in ${err.retryAfter} s.`;
    return text ?? err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Why the server ended the session (the client's `sessionEnded` reason). */
export function describeSessionEnd(reason: CloseReason): string {
  switch (reason) {
    case 'revoked:banned':
    case 'banned':
      return 'Your session ended: this account has been banned.';
    case 'revoked:role_changed':
      return 'Your session ended because your role changed. Please sign in again.';
    case 'revoked:logout':
      return 'Your session ended: you signed out elsewhere.';
    case 'revoked:kicked':
      return 'Your session ended: you were removed by an admin.';
    case 'refresh_reused':
      return 'Your session ended for your safety (the sign-in was used twice). Please sign in again.';
    default:
      return 'Your session ended. Please sign in again.';
  }
}
