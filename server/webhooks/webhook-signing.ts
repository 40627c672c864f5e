// Standard Webhooks signing (https://www.standardwebhooks.com/) through the
// reference `standardwebhooks` package: webhook-signature is "v1," +
// base64(HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>")).
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const SECRET_PREFIX = 'whsec_';

/** A new endpoint secret: 32 random bytes in the `whsec_<base64>` form. */
export const generateSecret = (): string => `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;

/** Whether `secret` is a `whsec_` secret of 24 to 64 bytes. */
export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return false;
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

/**
 * The three Standard Webhooks headers of one attempt; `id` stays the same on
 * every retry. Each secret adds one signature (space-separated, as the
 * specification allows), so during a rotation receivers holding either the
 * old or the new secret verify it.
 */
export function signedHeaders(secrets: readonly string[], id: string, body: string, now = new Date()): Record<string, string> {
  const seconds = Math.floor(now.getTime() / 1000);
  const at = new Date(seconds * 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}
