// Helpers for tests that run Roomcast, Redis or nginx as separate OS
// processes: free ports, bounded start-up waits, and a stop that always reaps.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { freePort } from './free-port.js';
import { ARTIFACTS_DIR } from './services.js';
import { TEST_LIMITS } from './test-limits.js';

export const TEST_JWT_SECRET = 'process-test-secret-that-is-long-enough-for-hs256';

export interface Child {
  readonly process: ChildProcess;
  readonly name: string;
  /** Whether it has exited (and with what). */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const children = new Set<Child>();

/** Starts a process (in `cwd`, default this one's) whose output goes to test-artifacts/<name>.log. */
export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Child {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const log = createWriteStream(path.join(ARTIFACTS_DIR, `${name}.log`), { flags: 'a' });
  const proc = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.pipe(log);
  proc.stderr.pipe(log);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitedPromise = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    proc.once('error', () => {
      exit ??= { code: -1, signal: null };
      resolve();
    });
  });
  const child: Child = {
    process: proc,
    name,
    exited: () => exit,
    stop: async (signal = 'SIGTERM', graceMs = 10_000) => {
      children.delete(child);
      if (exit) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child;
}

/** Stops every child a test started (use in after/afterEach). */
export async function stopChildren(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop()));
}

/** Polls until `probe` resolves true; fails early if `child` exits, and after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exit = child?.exited();
    if (exit) throw new Error(`${child!.name} exited (${exit.code ?? exit.signal}) before ${what}; see test-artifacts/${child!.name}.log`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether GET url answers 200. */
export async function answers200(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status === 200;
}

export interface NodeProcess {
  readonly child: Child;
  readonly url: string;
}

/** `node --import tsx server/main.ts` as node `name` on `port`, with the test secrets and limits under `env`. */
export function startServerChild(name: string, port: number, env: Record<string, string>): Child {
  return startChild(name, process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'info',
    NODE_ID: name,
    ...TEST_LIMITS,
    ...env,
  });
}

/** Starts `node --import tsx server/main.ts` on a free port and waits until /readyz answers 200. */
export async function startNodeProcess(name: string, env: Record<string, string>): Promise<NodeProcess> {
  const port = await freePort();
  const child = startServerChild(name, port, env);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`${name} to be ready`, () => answers200(`${url}/readyz`), 30_000, child);
  return { child, url };
}

/** Starts a private, throw-away redis-server on `port` and waits until it answers PING. */
export async function startRedis(name: string, port: number): Promise<Child> {
  const child = startChild(name, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitUntil(`${name} to answer PING`, () => redisPing(port), 10_000, child);
  return child;
}

/** Sends PING over a raw connection; true on +PONG. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** Whether an executable is on PATH. */
export function hasCommand(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const proc = spawn('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    proc.once('exit', (code) => resolve(code === 0));
    proc.once('error', () => resolve(false));
  });
}
