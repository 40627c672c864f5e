// A small TCP proxy put between a node and one of its dependencies
// (PostgreSQL or Redis). It forwards bytes, and on demand adds latency to
// every chunk or hangs: keeps every connection open but forwards nothing.
// Put in front of a node, it stalls: stops reading what the node sends, as a
// client that stops reading would (the node's send buffers fill up); or it
// refuses: closes every new connection at once, as an unreachable node; and
// `dropConnections` cuts the open ones, as a network that drops sockets.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from '../test/support/free-port.js';

export type ProxyMode = { kind: 'pass' } | { kind: 'latency'; ms: number } | { kind: 'hang' } | { kind: 'stall' } | { kind: 'refuse' };

export interface TcpProxy {
  readonly port: number;
  setMode(mode: ProxyMode): void;
  /** Cuts every open connection (new ones go through, unless refused). */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: ProxyMode = { kind: 'pass' };
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  // Chunks held back while hanging, per direction, released when the mode changes.
  const held: Array<() => void> = [];

  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      const send = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (mode.kind === 'pass' || mode.kind === 'stall') send();
      else if (mode.kind === 'latency') setTimeout(send, mode.ms);
      else held.push(send); // hang: the bytes go nowhere until released
    });
  };

  const server: Server = createServer((client) => {
    if (mode.kind === 'refuse') return void client.destroy();
    const upstream = connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    upstreams.add(upstream);
    if (mode.kind === 'stall') upstream.pause();
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      upstreams.delete(upstream);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    forward(client, upstream);
    forward(upstream, client);
  });
  const port = await listenOnLoopback(server);

  return {
    port,
    setMode(next) {
      mode = next;
      // Stalling reads nothing from the target (TCP backpressure does the rest); leaving it reads again.
      for (const upstream of upstreams) {
        if (next.kind === 'stall') upstream.pause();
        else upstream.resume();
      }
      if (next.kind !== 'hang') for (const release of held.splice(0)) release();
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      held.length = 0;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
