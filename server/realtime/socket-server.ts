import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server } from 'socket.io';
import type { Config } from '../config.js';
import type { OriginPolicy } from '../origins.js';
import type { RoomcastServer } from './types.js';

/** The message of an origin refusal: the JSON body of the 403 (polling) and the text of the refused upgrade. */
const ORIGIN_REFUSED = 'origin not allowed';

/**
 * The Socket.IO server: packet size limit, no per-message compression (it
 * costs CPU and memory per socket), and the origin allow-list applied to the
 * handshake of both transports (the `cors` option alone covers only polling).
 * A refused origin never reaches Socket.IO: it is answered HTTP 403 before
 * any session exists, so there is no `connect_error` code to send it.
 */
export function createSocketServer(httpServer: HttpServer, config: Config, originAllowed: OriginPolicy): RoomcastServer {
  const allowed = (req: IncomingMessage) => originAllowed(req.headers.origin, req.socket.localPort);
  // engine.io answers a refused WebSocket upgrade 400 (its polling refusal is
  // 403): refuse foreign upgrades first, so both transports say 403.
  httpServer.prependListener('upgrade', (req: IncomingMessage, socket: Duplex) => {
    if (!allowed(req)) refuseUpgrade(socket);
  });
  return new Server(httpServer, {
    maxHttpBufferSize: config.maxPacketBytes,
    perMessageDeflate: false,
    httpCompression: false,
    serveClient: false,
    cleanupEmptyChildNamespaces: true,
    allowRequest: (req, callback) => {
      const ok = allowed(req);
      callback(ok ? null : ORIGIN_REFUSED, ok);
    },
    // allowRequest has refused other origins already; reflect the one that passed.
    cors: { origin: true, credentials: true },
  });
}

function refuseUpgrade(socket: Duplex): void {
  // engine.io's own upgrade listener still runs, finds the socket destroyed and only destroys it again.
  socket.on('error', () => {});
  if (socket.writable) {
    socket.write(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${ORIGIN_REFUSED.length}\r\n\r\n${ORIGIN_REFUSED}`);
  }
  socket.destroy();
}
