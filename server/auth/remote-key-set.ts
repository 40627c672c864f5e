import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey, type LocalJWKSet } from 'jose';

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
  // Used only to fetch: verification goes through `local`, a snapshot of the
  // last good set, so no token (not even one whose alg does not fit a known
  // key) can make jose fetch inside a verification.
  const remote = createRemoteJWKSet(url, { timeoutDuration: options.timeoutMs, cooldownDuration: options.cooldownMs, cacheMaxAge: Infinity });
  let local: LocalJWKSet | null = null;
  let kids = new Set<string>();
  let lastFetchAt = -Infinity;
  let loadedAt = -Infinity;
  let pending: Promise<void> | null = null;

  const fetchNow = (): Promise<void> =>
    (pending ??= (async () => {
      lastFetchAt = Date.now();
      try {
        await remote.reload();
        const jwks = remote.jwks()!;
        local = createLocalJWKSet(jwks);
        kids = new Set(jwks.keys.flatMap((key) => (typeof key.kid === 'string' ? [key.kid] : [])));
        loadedAt = Date.now();
      } catch (err) {
        options.onFetchError(err);
      } finally {
        pending = null;
      }
    })());

  return async (header, token) => {
    const { kid } = header;
    if (typeof kid !== 'string') throw new errors.JWKSNoMatchingKey('token without a key id');
    if (!kids.has(kid)) {
      if (pending) await pending;
      else if (Date.now() - lastFetchAt >= options.cooldownMs) await fetchNow();
      if (!kids.has(kid)) throw new errors.JWKSNoMatchingKey(`no key "${kid}" in the key set`);
    } else if (Date.now() - loadedAt >= options.cacheMaxAgeMs && !pending && Date.now() - lastFetchAt >= options.cooldownMs) {
      void fetchNow();
    }
    return local!(header, token);
  };
}
