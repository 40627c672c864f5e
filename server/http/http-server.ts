import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import proxyAddr from 'proxy-addr';
import type { Config } from '../config.js';

type TransportLimits = Pick<Config, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'maxConnectionsPerIp' | 'trustProxy'>;

/**
 * The node's HTTP server, bounded against slow and greedy clients: a client
 * must send its headers within `httpHeadersTimeoutMs` and its whole request
 * within `httpRequestTimeoutMs` (else 408 and close), and one address may
 * hold at most `maxConnectionsPerIp` connections. Neither bounds a WebSocket
 * or a held long-poll: their requests are complete once the headers are in.
 */
export function createHttpServer(limits: TransportLimits, listener: RequestListener): Server {
  const server = createServer(
    {
      headersTimeout: limits.httpHeadersTimeoutMs,
      requestTimeout: limits.httpRequestTimeoutMs,
      // Node checks the two timeouts only this often (default 30 s, which let
      // trickled requests live 30 s past their limit).
      connectionsCheckingInterval: Math.min(1_000, limits.httpHeadersTimeoutMs),
    },
    listener,
  );
  if (limits.maxConnectionsPerIp > 0) capConnectionsPerAddress(server, limits.maxConnectionsPerIp, proxyAddr.compile([...limits.trustProxy]));
  return server;
}

/**
 * Closes a connection at once when its address already holds `max`. A
 * trusted proxy is exempt: every client behind it shares its address (cap
 * clients at the proxy, e.g. nginx `limit_conn`).
 */
function capConnectionsPerAddress(server: Server, max: number, trusted: (address: string, hop: number) => boolean): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (!address || trusted(address, 0)) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
