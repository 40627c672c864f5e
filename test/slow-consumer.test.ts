// A client that stops reading while its room floods: the node cuts it loose
// (MAX_SOCKET_BUFFER_BYTES) instead of buffering without end, the other
// receivers get every message in order, and the SDK comes back and catches up.
import { randomUUID } from 'node:crypto';
import type { Socket as NetSocket } from 'node:net';
import { expect } from 'chai';
import { startTcpProxy, type TcpProxy } from '../chaos/tcp-proxy.js';
import type { RoomcastApp } from '../server/app.js';
import type { Message } from '../server/protocol.js';
import { bufferedBytes } from '../server/realtime/slow-consumers.js';
import { closeClients, received, signedUpClient } from './support/sdk.js';
import { closeAll, collect, connect, createRoom, ok, registerUser, startNode, type ChatClient, waitFor } from './support/util.js';

const LIMIT = 128 * 1024;
const FLOOD = 3_000;
const CONTENT = 'x'.repeat(3_500);

/** Sends `count` 3.5 KB messages, `inFlight` at a time, each acknowledged. */
async function flood(sender: ChatClient, roomId: string, count: number, inFlight = 100): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await ok(sender, 'message:send', { roomId, content: `${i} ${CONTENT}`, clientMsgId: randomUUID() });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** The net.Socket under a Socket.IO client's websocket transport (engine.io-client over `ws`). */
function tcpOf(socket: ChatClient): NetSocket {
  const transport = socket.io.engine.transport as unknown as { ws?: { _socket?: NetSocket } };
  const tcp = transport.ws?._socket;
  if (!tcp) throw new Error('no websocket under this client');
  return tcp;
}

/** Samples the bytes the node holds for one socket until it is gone; returns the highest. */
function watchBacklog(app: RoomcastApp, socketId: string): { max: () => number; stop: () => void } {
  let max = 0;
  const timer = setInterval(() => {
    const socket = app.io.of('/chat').sockets.get(socketId);
    if (socket) max = Math.max(max, bufferedBytes(socket.conn));
  }, 20);
  return { max: () => max, stop: () => clearInterval(timer) };
}

const seqsOf = (messages: Message[]) => messages.map((m) => m.seq);
const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('slow consumers', () => {
  let proxy: TcpProxy | null = null;
  /** A paused client socket, read again before closing so a failed test cannot hang the clean-up. */
  let paused: NetSocket | null = null;
  afterEach(async () => {
    paused?.resume();
    paused = null;
    closeClients();
    await proxy?.close();
    proxy = null;
    await closeAll();
  });

  it('when a raw client stops reading while its room floods, then the node disconnects it with its backlog bounded, tells it why, and the others get every message in order', async function () {
    this.timeout(60_000); // a 3,000-message flood takes 10-20 s on a shared machine
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0', MAX_SOCKET_BUFFER_BYTES: String(LIMIT) });
    const [alice, bob, carol] = await Promise.all([registerUser(app), registerUser(app), registerUser(app)]);
    const room = await createRoom(app, alice.accessToken);
    const [sender, fast, slow] = (await Promise.all([alice, bob, carol].map((u) => connect(app, { token: u.accessToken })))) as [ChatClient, ChatClient, ChatClient];
    for (const socket of [sender, fast, slow]) await ok(socket, 'room:join', { roomId: room.id });
    const fastInbox = collect<Message>(fast, 'message:new');
    const slowInbox = collect<Message>(slow, 'message:new');
    const notices = collect<{ limitBytes: number }>(slow, 'session:slow_consumer');
    const disconnected = new Promise<string>((resolve) => slow.once('disconnect', resolve));
    const slowId = slow.id!;
    const backlog = watchBacklog(app, slowId);

    paused = tcpOf(slow);
    paused.pause();
    await flood(sender, room.id, FLOOD);
    await waitFor(() => !app.io.of('/chat').sockets.has(slowId), 5_000, 'the slow socket disconnected');
    backlog.stop();

    // It really fell behind (over the bound), and was cut long before the node
    // held the whole flood for it. How far past the bound it got depends on how
    // much the flood sent between two of the guard's checks (the machine's
    // speed), so the bound asserted is the flood's, not a timing.
    expect(backlog.max()).to.be.above(LIMIT);
    expect(backlog.max()).to.be.below((FLOOD * CONTENT.length) / 2);
    await waitFor(() => fastInbox.length === FLOOD, 10_000, 'every message at the fast receiver');
    expect(seqsOf(fastInbox)).to.deep.equal(oneToN(FLOOD));

    // Reading again, it finds what was already on its way, then the reason, then the close.
    tcpOf(slow).resume();
    expect(await disconnected).to.equal('io server disconnect');
    expect(notices).to.deep.equal([{ limitBytes: LIMIT }]);
    expect(slowInbox.length).to.be.below(FLOOD);
    expect(seqsOf(slowInbox)).to.deep.equal(oneToN(slowInbox.length));
  });

  it('when an SDK client stops reading while its room floods, then it is cut as slow_consumer, reconnects and ends with every message once, in order', async function () {
    this.timeout(60_000);
    const app = await startNode({ MESSAGE_RATE_LIMIT: '0', MAX_SOCKET_BUFFER_BYTES: String(LIMIT) });
    proxy = await startTcpProxy(Number(new URL(app.url()).port));
    const alice = await registerUser(app);
    const room = await createRoom(app, alice.accessToken);
    const sender = await connect(app, { token: alice.accessToken });
    await ok(sender, 'room:join', { roomId: room.id });
    const { client } = await signedUpClient(`http://127.0.0.1:${proxy.port}`);
    const inbox = received(await client.join(room.id));
    const reasons: unknown[] = [];
    client.on('state', (change) => reasons.push(change.reason));
    const firstSocket = client.socketId;

    proxy.setMode({ kind: 'stall' });
    await flood(sender, room.id, FLOOD);
    await waitFor(() => !app.io.of('/chat').sockets.has(firstSocket!), 5_000, 'the slow SDK socket disconnected');
    proxy.setMode({ kind: 'pass' });

    await waitFor(() => inbox.length === FLOOD, 20_000, 'the SDK caught up');
    expect(seqsOf(inbox)).to.deep.equal(oneToN(FLOOD));
    expect(reasons).to.include('slow_consumer');
    expect(client.socketId).to.not.equal(firstSocket);
  });
});
