// One SDK client per sign-in. The page runs in the SDK's browser refresh mode
// (the default in browsers): the refresh token lives in the server's HttpOnly
// cookie, which page scripts can never read, so a reload restores the session
// by asking the server (client.me() renews the access token from the cookie).
import { createClient, endsSession, RoomcastError, type RoomcastClient, type User } from '../../client-sdk/src/index.js';

/**
 * A hint, not a secret: "this browser signed in before". Without it the page
 * shows the sign-in form at once instead of asking the server (a first visit
 * would otherwise log a 401 in the console).
 */
const HINT_KEY = 'roomcast.signedIn';

export function newClient(): RoomcastClient {
  return createClient({ url: window.location.origin });
}

export function rememberSignIn(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(HINT_KEY, '1');
    else localStorage.removeItem(HINT_KEY);
  } catch {
    /* storage disabled: the page just asks the server every time */
  }
}

function mightBeSignedIn(): boolean {
  try {
    return localStorage.getItem(HINT_KEY) !== null;
  } catch {
    return true;
  }
}

/**
 * Restores the session after a reload: the user, or null when there is none
 * (no cookie, expired, revoked, banned). Other failures (server unreachable)
 * are thrown, so the page can offer to try again.
 */
export async function restoreSession(client: RoomcastClient): Promise<User | null> {
  if (!mightBeSignedIn()) return null;
  try {
    return await client.me();
  } catch (err) {
    // A token still expired after the SDK's own renewal means no session to restore either.
    if (endsSession(err) || (err instanceof RoomcastError && err.code === 'token_expired')) {
      rememberSignIn(false);
      return null;
    }
    throw err;
  }
}
