// The baseline: a bare Socket.IO server doing the same fan-out as Roomcast's
// /chat namespace, with nothing else: no auth, no validation, no storage.
// room:join joins; message:send builds a Message of the same shape (so the
// packets are as large), acks at once and broadcasts to the room except the
// sender. Run as its own process: `PORT=0 node --import tsx bench/bare-server.ts`;
// it prints `listening <port>` on stdout.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

interface SendPayload {
  roomId: string;
  content: string;
  clientMsgId: string;
}

const httpServer = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404).end();
});
// The same engine options as Roomcast's socket server, so only the work differs.
const io = new Server(httpServer, { perMessageDeflate: false, httpCompression: false, serveClient: false, maxHttpBufferSize: 65_536 });
const seqs = new Map<string, number>();
let nextId = 1;

io.of('/chat').on('connection', (socket) => {
  const userId = randomUUID();
  socket.on('room:join', (payload: { roomId: string }, ack: (a: unknown) => void) => {
    void socket.join(payload.roomId);
    ack({ ok: true, room: { id: payload.roomId, lastSeq: seqs.get(payload.roomId) ?? 0 }, online: [] });
  });
  socket.on('message:send', (payload: SendPayload, ack: (a: unknown) => void) => {
    const seq = (seqs.get(payload.roomId) ?? 0) + 1;
    seqs.set(payload.roomId, seq);
    const message = {
      id: String(nextId++),
      roomId: payload.roomId,
      seq,
      userId,
      // As long as the bench's Roomcast usernames (bench_ and 20 characters).
      username: 'bare_0123456789abcdefghij',
      content: payload.content,
      clientMsgId: payload.clientMsgId,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deleted: false,
      // The fields Roomcast's Message gained with issues 13 and 14 (change log, mentions, replies).
      change: seq,
      mentions: [],
      replyToSeq: null,
      replyCount: 0,
      lastReplyAt: null,
    };
    ack({ ok: true, message });
    socket.to(payload.roomId).emit('message:new', message);
  });
});

httpServer.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(httpServer.address() as AddressInfo).port}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => io.close(() => process.exit(0)));
}
