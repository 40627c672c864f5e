// The two servers under test behind one interface: Roomcast (PostgreSQL,
// authenticated, every message stored) and the bare Socket.IO baseline.
import { randomUUID } from 'node:crypto';
import { freePort } from '../test/support/free-port.js';
import { expectJson, requestJson } from '../test/support/http-json.js';
import { SOURCE_ENTRIES } from './compiled.js';
import { launch, type ServerProcess } from './processes.js';

export type TargetKind = 'roomcast' | 'bare';

export interface Account {
  login: string;
  password: string;
  userId: string;
  token: string;
}

export interface Target {
  kind: TargetKind;
  /** One node, or two for the cross-node scenario (senders on [0], receivers on [1]). */
  nodes: ServerProcess[];
  createAccounts(count: number): Promise<Account[]>;
  createRooms(owner: Account, count: number): Promise<string[]>;
  /** The namespace connect payload for an account. */
  auth(account: Account): Record<string, unknown> | undefined;
  stop(): Promise<void>;
}

const BENCH_JWT_SECRET = 'roomcast-benchmark-secret-not-for-production-use';
const PASSWORD = 'bench-password-1';

export interface RoomcastOptions {
  databaseUrl: string;
  nodes?: number;
  redisUrl?: string | null;
  nodeFlags?: string[];
  /** Extra environment for the nodes. */
  env?: Record<string, string>;
  /** WORKERS of each node (default 1); above 1 needs redisUrl, and the node is not pinned to one core. */
  workers?: number;
  /** The server's script (default: the sources, under tsx; see compiled.ts). */
  entry?: string;
}

export async function startRoomcast(options: RoomcastOptions): Promise<Target> {
  const nodes: ServerProcess[] = [];
  const stop = () => Promise.all(nodes.map((n) => n.stop())).then(() => undefined);
  try {
    for (let i = 0; i < (options.nodes ?? 1); i++) {
      nodes.push(
        await launch({
          name: `roomcast${options.nodes && options.nodes > 1 ? `-${i + 1}` : ''}`,
          args: [options.entry ?? SOURCE_ENTRIES.roomcast],
          port: await freePort(),
          nodeFlags: options.nodeFlags,
          // Redis and WORKERS only where the scenario asks for them: an exported
          // REDIS_URL (as in "Running it") would otherwise make every Roomcast
          // process clustered (Redis adapter, presence and a publish per batch).
          dropEnv: ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'WORKERS'],
          pin: (options.workers ?? 1) === 1,
          forksWorkers: (options.workers ?? 1) > 1,
          env: {
            HOST: '127.0.0.1',
            DATABASE_URL: options.databaseUrl,
            JWT_SECRET: BENCH_JWT_SECRET,
            MESSAGE_RATE_LIMIT: '0',
            LOGIN_FAILURE_LIMIT: '0',
            // The idle scenario holds thousands of sockets over ten accounts.
            MAX_SOCKETS_PER_USER: '0',
            REGISTRATION_RATE_LIMIT: '0',
            REGISTRATION_GLOBAL_RATE_LIMIT: '0',
            REFRESH_RATE_LIMIT: '0',
            // One owner creates every room of the small-rooms scenario, whose readers then page history.
            ROOM_CREATE_RATE_LIMIT: '0',
            HISTORY_RATE_LIMIT: '0',
            LOG_LEVEL: 'warn',
            ACCESS_TOKEN_TTL: '3600',
            NODE_ID: `bench-${i + 1}`,
            ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
            ...((options.workers ?? 1) > 1 ? { WORKERS: String(options.workers), REDIS_KEY_PREFIX: `bench-${randomUUID().slice(0, 8)}` } : {}),
            ...options.env,
          },
        }),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const base = nodes[0]!.url;
  return {
    kind: 'roomcast',
    nodes,
    async createAccounts(count) {
      const accounts: Account[] = [];
      // Registration runs bcrypt; a few at a time keeps the server responsive.
      for (let i = 0; i < count; i += 4) {
        const batch = Array.from({ length: Math.min(4, count - i) }, () => register(base));
        accounts.push(...(await Promise.all(batch)));
      }
      return accounts;
    },
    async createRooms(owner, count) {
      const ids: string[] = [];
      for (let i = 0; i < count; i += 20) {
        const batch = Array.from({ length: Math.min(20, count - i) }, async () => {
          const body = await expectJson<{ room: { id: string } }>(base, 'POST', '/api/rooms', { body: { name: `bench ${randomUUID().slice(0, 8)}` }, token: owner.token, timeoutMs: 60_000 });
          return body.room.id;
        });
        ids.push(...(await Promise.all(batch)));
      }
      return ids;
    },
    auth: (account) => ({ token: account.token }),
    stop,
  };
}

export async function startBare(entry = SOURCE_ENTRIES.bare, nodeFlags?: string[]): Promise<Target> {
  const port = await freePort();
  const node = await launch({ name: 'bare', args: [entry], port, env: {}, nodeFlags });
  return {
    kind: 'bare',
    nodes: [node],
    createAccounts: async (count) =>
      Array.from({ length: count }, (_, i) => ({ login: `bare${i}`, password: '', userId: randomUUID(), token: '' })),
    createRooms: async (_owner, count) => Array.from({ length: count }, () => randomUUID()),
    auth: () => undefined,
    stop: () => node.stop(),
  };
}

async function register(base: string): Promise<Account> {
  const username = `bench_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const body = await expectJson<{ user: { id: string }; accessToken: string }>(base, 'POST', '/api/auth/register', {
    body: { username, email: `${username}@bench.invalid`, password: PASSWORD, client: 'native' },
    timeoutMs: 60_000,
  });
  return { login: username, password: PASSWORD, userId: body.user.id, token: body.accessToken };
}

/** Logs in (the login storm); resolves with the HTTP status. */
export async function login(base: string, account: Account, timeoutMs: number): Promise<number> {
  const res = await requestJson(base, 'POST', '/api/auth/login', { body: { login: account.login, password: account.password, client: 'native' }, timeoutMs });
  return res.status;
}
