/**
 * The origin allow-list for HTTP and Socket.IO alike. A request without an
 * Origin (a native app, a server) is allowed, since browsers always send one.
 * Matching is exact: no prefix, suffix or scheme leniency. With no list
 * configured, only the server's own origin (the Host it was reached at) passes.
 */
export function createOriginPolicy(allowList: readonly string[] | null) {
  const allowed = allowList ? new Set(allowList) : null;
  return (origin: string | undefined, host: string | undefined): boolean => {
    if (origin === undefined) return true;
    if (allowed) return allowed.has(origin);
    return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
  };
}

export type OriginPolicy = ReturnType<typeof createOriginPolicy>;
