// Settings the serving node writes into the page (server/http/web-client.ts
// fills `<meta name="roomcast:…">` tags of index.html when it serves it), so
// the page follows the node's configuration instead of a copy of its defaults.
import { DEFAULT_MAX_MESSAGE_LENGTH } from '../../client-sdk/src/index.js';

/** The name of the meta tag carrying the node's `MAX_MESSAGE_LENGTH`. */
export const MAX_MESSAGE_LENGTH_META = 'roomcast:max-message-length';

function metaNumber(name: string): number | null {
  const value = Number(document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content);
  return Number.isInteger(value) && value > 0 ? value : null;
}

/** Characters the server accepts in a message or announcement (the protocol's default if the page does not say). */
export const maxMessageLength = (): number => metaNumber(MAX_MESSAGE_LENGTH_META) ?? DEFAULT_MAX_MESSAGE_LENGTH;
