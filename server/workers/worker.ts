// One worker of WORKERS=N: a whole node (its own Redis and database
// connections) whose connections the primary hands over (primary.ts).
import type { AddressInfo, Socket } from 'node:net';
import { Socket as NetSocket } from 'node:net';
import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { logUncaught, stopOnSignals } from '../lifecycle.js';
import { createLogger } from '../logger.js';
import { CONNECTION_MESSAGE, isMessage, READY_MESSAGE } from './routing.js';

export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, config.nodeId);
  logUncaught(logger);
  const app = await createApp(config, { logger });
  // The public port is the primary's. The HTTP server still listens, on a
  // private loopback port nobody is told of: Node checks the header and
  // request timeouts only of a listening server, and the stop closes it as
  // on one node. Connections come from the primary.
  await new Promise<void>((resolve, reject) => {
    app.httpServer.once('error', reject);
    app.httpServer.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      app.httpServer.off('error', reject);
      resolve();
    });
  });
  process.on('message', (message: unknown, handle: unknown) => {
    if (!isMessage(message, CONNECTION_MESSAGE) || !(handle instanceof NetSocket)) return;
    const socket: Socket = handle;
    // As if it had been accepted here; it was paused from the start, so no byte was read elsewhere.
    app.httpServer.emit('connection', socket);
    socket.resume();
  });
  stopOnSignals(app, logger);
  logger.info('worker is ready', { pid: process.pid, privatePort: (app.httpServer.address() as AddressInfo).port });
  process.send?.({ roomcast: READY_MESSAGE });
}
