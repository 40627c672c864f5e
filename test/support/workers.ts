// Roomcast with WORKERS=N as a child process (`server/main.ts`, a primary and
// its workers), and clients that land on a chosen worker: the primary routes
// by the client's address, so a client bound to another loopback address
// (127.0.0.x) reaches the worker that address maps to.
import { Agent } from 'node:http';
import { io as connectClient } from 'socket.io-client';
import { workerFor } from '../../server/workers/routing.js';
import { freePort } from './free-port.js';
import { startServerChild, type Child } from './processes.js';
import type { ChatClient } from './util.js';

export interface WorkersProcess {
  readonly child: Child;
  readonly url: string;
  /** The serving worker's pid for each worker index (replacements included). */
  readonly pids: number[];
  /** Resolves with the pid of the next worker that starts serving as `index` (rejects after `timeoutMs` or if the primary exits). */
  nextServing(index: number, timeoutMs: number): Promise<number>;
}

interface LogLine {
  message?: string;
  url?: string;
  pids?: number[];
  worker?: number;
  pid?: number;
}

/** Starts the primary with `workers` workers on a free port; resolves once it logs "roomcast is listening". */
export async function startWorkers(name: string, workers: number, env: Record<string, string>): Promise<WorkersProcess> {
  const port = await freePort();
  const child = startServerChild(name, port, { WORKERS: String(workers), ...env });
  const waiters = new Set<(line: LogLine) => void>();
  let buffered = '';
  child.process.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const text of lines) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      for (const waiter of [...waiters]) waiter(line);
    }
  });
  const nextLine = (what: string, match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const done = (error: Error | null, line?: LogLine) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        child.process.off('exit', exited);
        if (error) reject(error);
        else resolve(line!);
      };
      const waiter = (line: LogLine) => {
        if (match(line)) done(null, line);
      };
      const exited = () => done(new Error(`${name} exited before ${what}; see test-artifacts/${name}.log`));
      const timer = setTimeout(() => done(new Error(`no ${what} within ${timeoutMs} ms; see test-artifacts/${name}.log`)), timeoutMs);
      waiters.add(waiter);
      child.process.once('exit', exited);
    });

  const listening = await nextLine('"roomcast is listening"', (line) => line.message === 'roomcast is listening', 60_000);
  const pids = [...listening.pids!];
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    pids,
    nextServing: async (index, timeoutMs) => {
      const line = await nextLine(`worker ${index} serving`, (l) => l.message === 'worker is serving' && l.worker === index, timeoutMs);
      pids[index] = line.pid!;
      return line.pid!;
    },
  };
}

/** A loopback address (127.0.0.x) whose connections go to worker `index` of `count`. */
export function addressOfWorker(index: number, count: number): string {
  for (let host = 1; host < 255; host++) {
    const address = `127.0.0.${host}`;
    if (workerFor(address, count) === index) return address;
  }
  throw new Error(`no 127.0.0.x address maps to worker ${index} of ${count}`);
}

const openSockets = new Set<ChatClient>();

/** Connects to /chat (or /admin) from `localAddress`, over the given transport; rejects with the connect_error. */
export function connectFrom<S = ChatClient>(
  url: string,
  localAddress: string,
  token: string,
  transport: 'websocket' | 'polling',
  namespace: '/chat' | '/admin' = '/chat',
): Promise<S> {
  const socket = connectClient(url + namespace, {
    auth: { token },
    transports: [transport],
    // Both transports open their connections through this agent, so from this address.
    agent: new Agent({ localAddress, keepAlive: true }) as unknown as string,
    reconnection: false,
    forceNew: true,
  }) as unknown as ChatClient;
  openSockets.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket as unknown as S));
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
}

/** Disconnects every socket connectFrom opened. */
export function closeSocketsFrom(): void {
  for (const socket of openSockets) socket.disconnect();
  openSockets.clear();
}
