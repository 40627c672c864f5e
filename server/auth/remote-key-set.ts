import { createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';

export interface RemoteKeySetOptions {
  /** Longest wait for the JWKS endpoint, ms. */
  timeoutMs: number;
  /** Least time between two fetches caused by unknown key ids (or by a failed fetch), ms. */
  cooldownMs: number;
  /** Age after which the set is fetched again (in the background), ms. */
  cacheMaxAgeMs: number;
  /** A fetch failed (the keys known before keep verifying). */
  onFetchError(err: unknown): void;
}

/**
 * The app's JWKS, fetched by jose's createRemoteJWKSet (timeout, no
 * redirects) and kept so that a slow or down endpoint never stalls a token
 * whose key is already known:
 * - a known `kid` is served from the cache at once; once the set is older
 *   than `cacheMaxAgeMs` a refetch starts in the background, and a key the
 *   provider removed stops verifying when it lands;
 * - an unknown `kid` waits for one fetch (shared by concurrent callers), at
 *   most one per `cooldownMs` — failed fetches included, which jose alone does
 *   not bound — and is refused at once in between.
 * A token without `kid` is refused: the provider's keys are told apart by it.
 */
export function remoteKeySet(url: URL, options: RemoteKeySetOptions): JWTVerifyGetKey {
  // cacheMaxAge Infinity: jose never fetches on its own inside a verification; the expiry is handled here.
  const remote = createRemoteJWKSet(url, { timeoutDuration: options.timeoutMs, cooldownDuration: options.cooldownMs, cacheMaxAge: Infinity });
  let lastFetchAt = -Infinity;
  let loadedAt = -Infinity;
  let pending: Promise<void> | null = null;

  const fetchNow = (): Promise<void> =>
    (pending ??= (async () => {
      lastFetchAt = Date.now();
      try {
        await remote.reload();
        loadedAt = Date.now();
      } catch (err) {
        options.onFetchError(err);
      } finally {
        pending = null;
      }
    })());
  const knows = (kid: string) => remote.jwks()?.keys.some((key) => key.kid === kid) ?? false;

  return async (header, token) => {
    const { kid } = header;
    if (typeof kid !== 'string') throw new errors.JWKSNoMatchingKey('token without a key id');
    if (!knows(kid)) {
      if (pending) await pending;
      else if (Date.now() - lastFetchAt >= options.cooldownMs) await fetchNow();
      if (!knows(kid)) throw new errors.JWKSNoMatchingKey(`no key "${kid}" in the key set`);
    } else if (Date.now() - loadedAt >= options.cacheMaxAgeMs && !pending && Date.now() - lastFetchAt >= options.cooldownMs) {
      void fetchNow();
    }
    return remote(header, token);
  };
}
