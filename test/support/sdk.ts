// Helpers for tests of the client SDK against real nodes: every client a
// test creates is closed by `closeClients` (call it in afterEach).
import type { RoomcastApp } from '../../server/app.js';
import { createClient, type ClientOptions, type Message, type Room, type RoomcastClient } from '../../client-sdk/src/index.js';
import { uniqueName } from './util.js';

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

/** Registers a fresh user through the SDK; returns the client and the password. */
export async function signedUpClient(target: RoomcastApp | ClientOptions['url'], options: Partial<ClientOptions> = {}): Promise<{ client: RoomcastClient; username: string; password: string }> {
  const client = sdkClient(target, options);
  const username = uniqueName('sdk');
  const password = `pw-${username}-secret`;
  await client.register({ username, email: `${username}@example.test`, password });
  return { client, username, password };
}

/** Every message the room hands to its `message` listeners. */
export function received(room: Room): Message[] {
  const list: Message[] = [];
  room.on('message', (m) => list.push(m));
  return list;
}
