// Continuous SDK traffic for the chaos suite: every client joins one room and
// sends one message after another, recording what was acknowledged, what was
// rejected to the app, and every message its `message` listener saw.
import { createClient, RoomcastError, type Message, type Room, type RoomcastClient } from '../client-sdk/src/index.js';

export interface LoadClient {
  readonly name: string;
  /** The node URL this client starts on (its url list begins with it). */
  readonly home: string;
  readonly client: RoomcastClient;
  room: Room | null;
  readonly acked: Array<{ message: Message; at: number }>;
  readonly rejected: Array<{ content: string; code: string; at: number }>;
  /** Sends handed to the SDK and not settled yet (content → send time). */
  readonly pending: Map<string, number>;
  readonly seen: Array<{ message: Message; at: number }>;
  readonly errors: string[];
}

export interface LoadOptions {
  /** Each client's url list; failover goes down the list. */
  urls: string[][];
  /** Pause between one client's sends, ms. */
  intervalMs: number;
  ackTimeoutMs?: number;
}

export class Load {
  readonly clients: LoadClient[] = [];
  roomId = '';
  #running = false;
  #loops: Promise<void>[] = [];

  private constructor(private readonly options: LoadOptions) {}

  /** Registers one user per url list, creates a room, joins every client. */
  static async start(options: LoadOptions, label: string): Promise<Load> {
    const load = new Load(options);
    const stamp = `${label}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.slice(0, 24);
    for (const [i, urls] of options.urls.entries()) {
      const client = createClient({
        url: urls,
        transports: ['websocket'],
        reconnect: { minDelayMs: 50, maxDelayMs: 500 },
        ackTimeoutMs: options.ackTimeoutMs ?? 5_000,
        connectTimeoutMs: 3_000,
        requestTimeoutMs: 5_000,
      });
      const name = `${stamp}_${i}`;
      await client.register({ username: name, email: `${name}@chaos.test`, password: `pw-${name}-secret` });
      load.clients.push({ name, home: urls[0]!, client, room: null, acked: [], rejected: [], pending: new Map(), seen: [], errors: [] });
    }
    const first = load.clients[0]!;
    load.roomId = (await first.client.rooms.create({ name: `chaos ${stamp}` })).id;
    for (const c of load.clients) {
      c.client.on('error', (err) => c.errors.push(String(err.message)));
      const room = await c.client.join(load.roomId);
      room.on('message', (message) => c.seen.push({ message, at: Date.now() }));
      c.room = room;
    }
    return load;
  }

  /** Starts every client's send loop. */
  run(): void {
    this.#running = true;
    this.#loops = this.clients.map((c) => this.#loop(c));
  }

  async #loop(c: LoadClient): Promise<void> {
    for (let i = 0; this.#running && i < 100_000; i++) {
      const content = `${c.name}#${i}`;
      c.pending.set(content, Date.now());
      try {
        const message = await c.room!.send(content);
        c.acked.push({ message, at: Date.now() });
      } catch (err) {
        c.rejected.push({ content, code: err instanceof RoomcastError ? err.code : String(err), at: Date.now() });
      } finally {
        c.pending.delete(content);
      }
      await new Promise((r) => setTimeout(r, this.options.intervalMs));
    }
  }

  /** Stops sending and waits (bounded) for every send in flight to settle. */
  async stop(timeoutMs: number): Promise<void> {
    this.#running = false;
    await Promise.race([Promise.all(this.#loops), new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  ackedCount(): number {
    return this.clients.reduce((n, c) => n + c.acked.length, 0);
  }

  close(): void {
    for (const c of this.clients) c.client.close();
  }
}
