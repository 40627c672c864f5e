import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Config } from '../config.js';
import type { OriginPolicy } from '../origins.js';
import type { RoomcastServer } from './types.js';

/**
 * The Socket.IO server: packet size limit, no per-message compression (it
 * costs CPU and memory per socket), and the origin allow-list applied to the
 * handshake of both transports (the `cors` option alone covers only polling).
 */
export function createSocketServer(httpServer: HttpServer, config: Config, originAllowed: OriginPolicy): RoomcastServer {
  return new Server(httpServer, {
    maxHttpBufferSize: config.maxPacketBytes,
    perMessageDeflate: false,
    httpCompression: false,
    serveClient: false,
    cleanupEmptyChildNamespaces: true,
    allowRequest: (req, callback) => callback(null, originAllowed(req.headers.origin, req.headers.host)),
    // allowRequest has refused other origins already; reflect the one that passed.
    cors: { origin: true, credentials: true },
  });
}
