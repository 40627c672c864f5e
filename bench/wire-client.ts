// A minimal Socket.IO client speaking the wire format over plain `ws`, so
// that one load-generator core can receive far more messages than
// socket.io-client allows (it spends 8-10 µs per received message).
//
// Engine.IO v4 over websocket, one packet per frame:
//   server "0{sid,pingInterval,...}" open     client "40/chat,{auth}"   namespace connect
//   server "40/chat,{sid}" connected          server "44/chat,{message,data}" refused
//   server "2" ping  -> client "3" pong
//   client "42/chat,<id>[event,payload]"      server "43/chat,<id>[ack]"  (emit with ack)
//   server "42/chat,[event,payload]"          (event; the receiver only needs message:new)
import WebSocket from 'ws';

export interface WireClientOptions {
  /** http://host:port of the node. */
  url: string;
  namespace: string;
  /** The namespace connect payload (`{ token }` for Roomcast). */
  auth?: Record<string, unknown>;
  /** Called with the raw text of every event packet (`42/ns,[...]`), undecoded. */
  onEvent?: (frame: Buffer) => void;
  timeoutMs?: number;
  /** The loopback address to connect from (default: the system's choice). */
  localAddress?: string;
}

export class WireClient {
  private nextAckId = 0;
  private readonly acks = new Map<number, (ack: unknown) => void>();
  private readonly prefix: string;
  closed = false;

  private constructor(
    private readonly ws: WebSocket,
    namespace: string,
  ) {
    this.prefix = namespace === '/' ? '' : `${namespace},`;
  }

  /** Opens the websocket and connects the namespace; rejects on refusal or timeout. */
  static connect(options: WireClientOptions): Promise<WireClient> {
    const url = `${options.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    // The server is trusted here: skip ws's UTF-8 check of every frame (receiver CPU).
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const client = new WireClient(ws, options.namespace);
    const ackPrefix = `43${client.prefix}`;
    const eventPrefix = `42${client.prefix}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('connect timeout')), options.timeoutMs ?? 20_000);
      let connected = false;
      const fail = (err: Error) => {
        clearTimeout(timer);
        client.close();
        reject(err);
      };
      ws.on('error', (err) => (connected ? undefined : fail(err)));
      ws.on('close', () => {
        client.closed = true;
        if (!connected) fail(new Error('closed before connect'));
      });
      ws.on('message', (data: Buffer) => {
        const first = data[0];
        if (first === 0x32 && data.length === 1) return ws.send('3'); // ping
        if (first === 0x34 && data[1] === 0x32) {
          // 42: an event (of our one namespace); the caller reads what it needs from the raw frame.
          if (options.onEvent && data.length > eventPrefix.length) options.onEvent(data);
          return;
        }
        const text = data.toString();
        if (text.startsWith(ackPrefix)) {
          const open = text.indexOf('[', ackPrefix.length);
          const id = Number(text.slice(ackPrefix.length, open));
          const callback = client.acks.get(id);
          if (callback) {
            client.acks.delete(id);
            callback((JSON.parse(text.slice(open)) as unknown[])[0]);
          }
        } else if (text.startsWith('0')) {
          ws.send(`40${client.prefix}${options.auth ? JSON.stringify(options.auth) : ''}`);
        } else if (text.startsWith(`40${client.prefix}`)) {
          connected = true;
          clearTimeout(timer);
          resolve(client);
        } else if (text.startsWith(`44${client.prefix}`)) {
          const body = JSON.parse(text.slice(2 + client.prefix.length)) as { message?: string };
          fail(new Error(`connect refused: ${body.message ?? text}`));
        }
      });
    });
  }

  /** Emits an event; `onAck` gets the ack's first argument. */
  emit(event: string, payload: unknown, onAck?: (ack: unknown) => void): void {
    if (this.closed) return;
    if (!onAck) return this.ws.send(`42${this.prefix}${JSON.stringify([event, payload])}`);
    const id = this.nextAckId++;
    this.acks.set(id, onAck);
    this.ws.send(`42${this.prefix}${id}${JSON.stringify([event, payload])}`);
  }

  /** Emits and waits for the ack (bounded). */
  request<T = unknown>(event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${event}: no ack within ${timeoutMs} ms`)), timeoutMs);
      this.emit(event, payload, (ack) => {
        clearTimeout(timer);
        resolve(ack as T);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.acks.clear();
    this.ws.terminate();
  }
}
