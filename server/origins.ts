/**
 * The origin allow-list for HTTP and Socket.IO alike. A request without an
 * Origin (a native app, a server) is allowed, since browsers always send one.
 * Matching is exact: no prefix, suffix or scheme leniency.
 *
 * With no list configured, only the node's own loopback origins pass:
 * localhost, 127.0.0.1 and [::1] on the port the connection arrived at. The
 * Host header is never consulted: a DNS-rebinding page (evil.example made to
 * resolve to the node) sends a Host and an Origin that agree, so "Origin
 * equals Host" would let it in — registration included.
 */
export function createOriginPolicy(allowList: readonly string[] | null) {
  const allowed = allowList ? new Set(allowList) : null;
  return (origin: string | undefined, localPort: number | undefined): boolean => {
    if (origin === undefined) return true;
    if (allowed) return allowed.has(origin);
    return localPort !== undefined && isLoopbackOrigin(origin, localPort);
  };
}

export type OriginPolicy = ReturnType<typeof createOriginPolicy>;

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

function isLoopbackOrigin(origin: string, port: number): boolean {
  return LOOPBACK_HOSTS.some((host) => origin === `http://${host}:${port}` || origin === `https://${host}:${port}`);
}
