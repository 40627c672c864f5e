// Helpers for end-to-end tests: start real nodes on port 0, talk to them
// over real HTTP and Socket.IO, and close everything a test opened.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import winston from 'winston';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { createApp, type RoomcastApp } from '../../server/app.js';
import { loadConfig, type Config } from '../../server/config.js';
import { logFormat, type Logger } from '../../server/logger.js';
import type {
  Ack,
  AuthResponse,
  ChatClientToServerEvents,
  ChatServerToClientEvents,
  AdminClientToServerEvents,
  AdminServerToClientEvents,
  Room,
  RoomInfo,
  RoomsPage,
  User,
} from '../../server/protocol.js';
import { requestJson, type JsonAnswer, type JsonRequestOptions } from './http-json.js';
import { ARTIFACTS_DIR } from './services.js';
import { environment } from './environment.js';
import { TEST_LIMITS } from './test-limits.js';

export type ChatClient = ClientSocket<ChatServerToClientEvents, ChatClientToServerEvents>;
export type AdminClient = ClientSocket<AdminServerToClientEvents, AdminClientToServerEvents>;

const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-signing';
let sharedLogger: Logger | null = null;

/** All test nodes log to one file (kept as an artifact, and greppable for secrets). */
export function testLogger(): Logger {
  if (!sharedLogger) {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    sharedLogger = winston.createLogger({
      level: process.env.TEST_LOG_LEVEL ?? 'info',
      // The server's own format (redaction included), so the secret check covers it.
      format: logFormat(),
      transports: [new winston.transports.File({ filename: path.join(ARTIFACTS_DIR, 'server.log') })],
    });
  }
  return sharedLogger;
}

/** Whether an in-process node of this run has logged, so that server.log must exist. */
export const testLoggerStarted = (): boolean => sharedLogger !== null;

/** A validated config for a test node; `env` overrides the contract's variables. */
export function testConfig(env: Record<string, string> = {}): Config {
  const { services } = environment.get();
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: services.databaseUrl ?? 'memory',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'info',
    ...TEST_LIMITS,
    // In-process test nodes close at once, as a killed node would (what the
    // failover tests exercise); the drain tests ask for a grace themselves.
    DRAIN_GRACE_MS: '0',
    ...env,
  });
}

const openApps = new Set<RoomcastApp>();

/**
 * Starts a node on port 0 against the run's shared database. Every node a
 * test starts is closed by `closeAll` (called from each file's afterEach).
 */
export async function startNode(env: Record<string, string> = {}): Promise<RoomcastApp> {
  const app = await createApp(testConfig(env), { database: environment.get().database, skipMigrations: true, logger: testLogger() });
  await app.listen();
  openApps.add(app);
  return app;
}

/**
 * A node started before each test of the suite and closed after it:
 * `const node = useNode(env)` in a describe, then `node.app` in its tests.
 */
export function useNode(env: Record<string, string> = {}): { readonly app: RoomcastApp } {
  let app: RoomcastApp | undefined;
  beforeEach(async () => {
    app = await startNode(env);
  });
  afterEach(closeAll);
  return {
    get app(): RoomcastApp {
      if (!app) throw new Error('useNode: the node starts in beforeEach; read node.app inside a test or hook');
      return app;
    },
  };
}

const openSockets = new Set<ClientSocket>();

/** Closes every client socket and node the tests opened. */
export async function closeAll(): Promise<void> {
  for (const socket of openSockets) socket.disconnect();
  openSockets.clear();
  await Promise.all([...openApps].map((app) => app.close()));
  openApps.clear();
}

export async function stopNode(app: RoomcastApp): Promise<void> {
  openApps.delete(app);
  await app.close();
}

// --------------------------------------------------------------------- HTTP

export type HttpResult<T = unknown> = JsonAnswer<T>;

/** A JSON request to a node; `token` goes in as a Bearer header, a string body is sent as is. */
export function http<T = any>(app: RoomcastApp | string, method: string, route: string, options: JsonRequestOptions = {}): Promise<HttpResult<T>> {
  return requestJson<T>(typeof app === 'string' ? app : app.url(), method, route, options);
}

/** The room as `GET /api/rooms` lists it for `user` (with their readSeq, unreadCount and mentionCount); throws unless it answers 200 and lists the room. */
export async function listedRoom(app: RoomcastApp, user: TestUser, roomId: string): Promise<RoomInfo> {
  const res = await http<RoomsPage>(app, 'GET', '/api/rooms?limit=200', { token: user.accessToken });
  if (res.status !== 200) throw new Error(`GET /api/rooms answered ${res.status}`);
  const room = res.body.rooms.find((r) => r.id === roomId);
  if (!room) throw new Error('room not listed');
  return room;
}

export interface TestUser {
  user: User;
  accessToken: string;
  refreshToken: string;
  password: string;
}

/** Every password and refresh token the helpers used or got this run: the root afterAll hook checks that no log has one. */
export const issuedSecrets = new Set<string>();

let userCounter = 0;
export const uniqueName = (prefix = 'u') => `${prefix}${process.pid % 1000}_${++userCounter}_${randomUUID().slice(0, 6)}`;

/** Registers a new user in native mode (refresh token in the body). */
export async function registerUser(app: RoomcastApp | string, name = uniqueName()): Promise<TestUser> {
  const password = `pw-${name}-secret`;
  const res = await http<AuthResponse>(app, 'POST', '/api/auth/register', {
    body: { username: name, email: `${name}@example.test`, password, client: 'native' },
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  issuedSecrets.add(password).add(res.body.refreshToken!);
  return { user: res.body.user, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken!, password };
}

/** Registers a user and makes them admin (through the store, as the admin CLI does), then signs in again. */
export async function registerAdmin(app: RoomcastApp, name = uniqueName('admin')): Promise<TestUser> {
  const registered = await registerUser(app, name);
  await environment.get().database.knex('users').where({ id: registered.user.id }).update({ role: 'admin' });
  const res = await http<AuthResponse>(app, 'POST', '/api/auth/login', {
    body: { login: name, password: registered.password, client: 'native' },
  });
  if (res.status !== 200) throw new Error(`admin login failed: ${res.status}`);
  issuedSecrets.add(res.body.refreshToken!);
  return { user: res.body.user, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken!, password: registered.password };
}

export interface RoomOptions {
  name?: string;
  visibility?: 'public' | 'private';
  readOnly?: boolean;
}

export async function createRoom(app: RoomcastApp | string, token: string, body: RoomOptions = {}): Promise<Room> {
  const res = await http<{ room: Room }>(app, 'POST', '/api/rooms', { token, body: { name: uniqueName('room'), ...body } });
  if (res.status !== 201) throw new Error(`create room failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.room;
}

/** What `usersWithRoom` and `membersInRoom` arrange: a room, its users and one socket each, in the order of the apps. */
export type RoomParty<Apps extends readonly (RoomcastApp | string)[]> = {
  room: Room;
  users: { [K in keyof Apps]: TestUser };
  sockets: { [K in keyof Apps]: ChatClient };
};

/**
 * The start of most chat tests: one new user per app (registered there), a
 * room created by the first (with `room` options), and each user's socket
 * connected to their app — not yet joined (see `membersInRoom`).
 */
export async function usersWithRoom<const Apps extends readonly [RoomcastApp | string, ...(RoomcastApp | string)[]]>(
  apps: Apps,
  room: RoomOptions = {},
): Promise<RoomParty<Apps>> {
  const users = await Promise.all(apps.map((app) => registerUser(app)));
  const created = await createRoom(apps[0], users[0]!.accessToken, room);
  const sockets = await Promise.all(users.map((user, i) => connect(apps[i]!, { token: user.accessToken })));
  return { room: created, users: users as RoomParty<Apps>['users'], sockets: sockets as RoomParty<Apps>['sockets'] };
}

/** Like `usersWithRoom`, with every socket joined to the room. */
export async function membersInRoom<const Apps extends readonly [RoomcastApp | string, ...(RoomcastApp | string)[]]>(
  apps: Apps,
  room: RoomOptions = {},
): Promise<RoomParty<Apps>> {
  const party = await usersWithRoom(apps, room);
  for (const socket of party.sockets) await ok(socket, 'room:join', { roomId: party.room.id });
  return party;
}

// ------------------------------------------------------------------ sockets

export interface ConnectOptions {
  token?: string;
  namespace?: '/chat' | '/admin';
  transports?: ('websocket' | 'polling')[];
  extraHeaders?: Record<string, string>;
  reconnection?: boolean;
}

/** Opens a socket and waits for `connect`; rejects with the `connect_error`. */
export function connect<S extends ClientSocket = ChatClient>(app: RoomcastApp | string, options: ConnectOptions = {}): Promise<S> {
  const socket = openSocket<S>(app, options);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
}

/** Opens a socket without waiting (to watch connect_error yourself). */
export function openSocket<S extends ClientSocket = ChatClient>(app: RoomcastApp | string, options: ConnectOptions = {}): S {
  const base = typeof app === 'string' ? app : app.url();
  const socket = connectClient(base + (options.namespace ?? '/chat'), {
    auth: options.token ? { token: options.token } : {},
    transports: options.transports ?? ['websocket'],
    extraHeaders: options.extraHeaders,
    reconnection: options.reconnection ?? false,
    forceNew: true,
  }) as unknown as S;
  openSockets.add(socket);
  return socket;
}

/** Emits an event and resolves with its ack (rejects after `timeoutMs` without one). */
export function request<T extends object = Record<string, unknown>>(socket: ClientSocket, event: string, payload?: unknown, timeoutMs = 10_000): Promise<Ack<T>> {
  return (socket as ClientSocket).timeout(timeoutMs).emitWithAck(event, payload) as Promise<Ack<T>>;
}

/** Like `request`, but expects success and returns the data. */
export async function ok<T extends object = Record<string, unknown>>(socket: ClientSocket, event: string, payload?: unknown): Promise<T> {
  const ack = await request<T>(socket, event, payload);
  if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code} ${ack.error.message}`);
  return ack;
}

/** Resolves with the next `event` the socket receives. */
export function nextEvent<T = unknown>(socket: ClientSocket, event: string, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Collects every `event` a socket receives, until `collector.stop()`. */
export function collect<T = unknown>(socket: ClientSocket, event: string): T[] {
  const items: T[] = [];
  socket.on(event, (payload: T) => items.push(payload));
  return items;
}

/** Waits until `condition` holds, polling (bounded: fails after `timeoutMs`). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
