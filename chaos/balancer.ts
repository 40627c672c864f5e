// A small TCP load balancer for the drain tests and the rolling-restart row:
// round-robin over the nodes whose GET /readyz answered 200 at the last
// health check, as a real balancer's health check does. A draining node
// answers 503, so new connections (a client's handover socket included) go
// to the others; connections already open stay where they are. WebSocket
// only: without sticky sessions, polling requests of one session would
// scatter.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from '../test/support/free-port.js';

export interface Balancer {
  readonly url: string;
  /** Replaces the nodes (base URLs); health is checked before any gets traffic. */
  setBackends(urls: string[]): Promise<void>;
  /** Connections accepted per node URL (for the report). */
  readonly connections: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

interface Backend {
  url: string;
  host: string;
  port: number;
  healthy: boolean;
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startBalancer(urls: string[], checkEveryMs = 100): Promise<Balancer> {
  let backends: Backend[] = [];
  let turn = 0;
  let closed = false;
  const sockets = new Set<Socket>();
  const connections = new Map<string, number>();

  const check = async () => {
    await Promise.all(backends.map(async (b) => void (b.healthy = await ready(b.url))));
  };
  const setBackends = async (list: string[]) => {
    const next = list.map((url) => {
      const { hostname, port } = new URL(url);
      return { url, host: hostname, port: Number(port), healthy: false };
    });
    await Promise.all(next.map(async (b) => void (b.healthy = await ready(b.url))));
    backends = next;
  };
  await setBackends(urls);
  // Bounded by close(): one check at a time, every checkEveryMs.
  const checking = (async () => {
    while (!closed) {
      await check();
      await new Promise((r) => setTimeout(r, checkEveryMs));
    }
  })();

  const pick = (): Backend | null => {
    const healthy = backends.filter((b) => b.healthy);
    if (healthy.length === 0) return null;
    return healthy[turn++ % healthy.length]!;
  };

  const server: Server = createServer((client) => {
    const backend = pick();
    if (!backend) return void client.destroy();
    connections.set(backend.url, (connections.get(backend.url) ?? 0) + 1);
    const upstream = connect(backend.port, backend.host);
    sockets.add(client);
    sockets.add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await listenOnLoopback(server);

  return {
    url: `http://127.0.0.1:${port}`,
    setBackends,
    connections,
    async close() {
      closed = true;
      await checking;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
