// Helpers for tests of the client SDK against real nodes: every client a
// test creates is closed by `closeClients` (call it in afterEach).
import type { RoomcastApp } from '../../server/app.js';
import { createClient, type ClientOptions, type Message, type Room, type RoomcastClient, type RoomInfo } from '../../client-sdk/src/index.js';
import { closeAll, uniqueName } from './util.js';

const openClients = new Set<RoomcastClient>();

/** A client for `app` over websocket, with fast reconnects for tests. */
export function sdkClient(target: RoomcastApp | ClientOptions['url'], options: Partial<ClientOptions> = {}): RoomcastClient {
  const url = isApp(target) ? target.url() : target;
  const client = createClient({ url, transports: ['websocket'], reconnect: { minDelayMs: 50, maxDelayMs: 500 }, ...options });
  openClients.add(client);
  return client;
}

function isApp(target: RoomcastApp | ClientOptions['url']): target is RoomcastApp {
  return typeof target === 'object' && !Array.isArray(target) && 'httpServer' in target;
}

export function closeClients(): void {
  for (const client of openClients) client.close();
  openClients.clear();
}

/** In a describe of SDK tests: after each test, close its clients first (so they do not reconnect), then its nodes. */
export function closeClientsAfterEach(): void {
  afterEach(async () => {
    closeClients();
    await closeAll();
  });
}

/** Registers a fresh user through the SDK; returns the client and the password. */
export async function signedUpClient(target: RoomcastApp | ClientOptions['url'], options: Partial<ClientOptions> = {}): Promise<{ client: RoomcastClient; username: string; password: string }> {
  const client = sdkClient(target, options);
  const username = uniqueName('sdk');
  const password = `pw-${username}-secret`;
  await client.register({ username, email: `${username}@example.test`, password });
  return { client, username, password };
}

/**
 * The delivery tests' pair: two signed-up clients, a room the sender creates,
 * and both joined to it (`out` the sender's handle, `inbox` the reader's).
 * The reader may be given other URLs, to fail over between nodes.
 */
export async function senderAndReader(
  senderTarget: RoomcastApp | ClientOptions['url'],
  readerTarget: RoomcastApp | ClientOptions['url'] = senderTarget,
): Promise<{ sender: RoomcastClient; reader: RoomcastClient; created: RoomInfo; out: Room; inbox: Room }> {
  const { client: sender } = await signedUpClient(senderTarget);
  const { client: reader } = await signedUpClient(readerTarget);
  const created = await sender.rooms.create({ name: uniqueName('room') });
  const out = await sender.join(created.id);
  const inbox = await reader.join(created.id);
  return { sender, reader, created, out, inbox };
}

/** Every message the room hands to its `message` listeners. */
export function received(room: Room): Message[] {
  const list: Message[] = [];
  room.on('message', (m) => list.push(m));
  return list;
}
