// Starts the servers under test as separate processes, pinned to the
// server core with taskset where it exists, and stops them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Preloaded into every server under test: its GC pauses and a full GC on request, over IPC. */
const GC_PROBE = fileURLToPath(new URL('./gc-probe.mjs', import.meta.url));
/** The probe's answers (gc-probe.mjs). */
type ProbeReply = { probe: 'gc-totals'; gcMs: number; gcCount: number; cpuMs: number } | { probe: 'collect'; rssBytes: number; heapUsedBytes: number };
const PROBE_TIMEOUT_MS = 5_000;

const SERVER_CORE = '0';
const GENERATOR_CORE = '1';

let tasksetChecked: boolean | null = null;

// Servers still running; killed if the benchmark itself exits early.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Whether `taskset` exists and the machine has at least two cores to separate. */
export function canPin(): boolean {
  if (tasksetChecked === null) {
    const probe = spawnSync('taskset', ['-c', SERVER_CORE, 'true']);
    tasksetChecked = probe.status === 0 && Number(spawnSync('nproc').stdout?.toString().trim() ?? '1') >= 2;
  }
  return tasksetChecked;
}

/** Pins this process (the load generator) to its own core, if possible. */
export function pinSelf(): boolean {
  if (!canPin()) return false;
  return spawnSync('taskset', ['-a', '-c', '-p', GENERATOR_CORE, String(process.pid)]).status === 0;
}

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** The server's pid, and with WORKERS=N its workers' too, for CPU and memory figures. */
  pids(): number[];
  /** Whether it runs as WORKERS=N (a primary and its workers; the GC probe then answers for the primary only). */
  forksWorkers: boolean;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  /** Main-thread GC pause time and the process's CPU time so far (ms), or null when the probe does not answer. */
  gcTotals(): Promise<{ gcMs: number; gcCount: number; cpuMs: number } | null>;
  /** Runs a full GC in the server, then its RSS and used heap; null when the probe does not answer. */
  collect(): Promise<{ rssBytes: number; heapUsedBytes: number } | null>;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  name: string;
  /** Script and arguments: a `.ts` script runs under `--import tsx`, a compiled one without. */
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Variables of the benchmark's own environment not passed on (`env` may still set them). */
  dropEnv?: string[];
  readyTimeoutMs?: number;
  /** false: not pinned to the server core even where taskset exists (WORKERS=N uses every core). */
  pin?: boolean;
  /** WORKERS=N: the server is a primary whose child processes (the workers) count in its CPU and memory. */
  forksWorkers?: boolean;
}

/** Spawns `node [--import tsx] script ...` (pinned when possible) and waits until GET /healthz answers 200. */
export async function launch(options: LaunchOptions): Promise<ServerProcess> {
  const loader = options.args[0]?.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const nodeArgs = [...(options.nodeFlags ?? []), ...loader, '--import', GC_PROBE, ...options.args];
  // taskset execs node, so the pid we get is the server's own.
  const [command, args] = canPin() && options.pin !== false ? ['taskset', ['-c', SERVER_CORE, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(command, args as string[], {
    env: { ...withoutKeys(process.env, options.dropEnv ?? []), ...options.env, PORT: String(options.port) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${options.port}`;
  const server: ServerProcess = {
    name: options.name,
    url,
    pid: child.pid!,
    pids: () => (options.forksWorkers ? [child.pid!, ...childrenOf(child.pid!)] : [child.pid!]),
    forksWorkers: options.forksWorkers ?? false,
    output: () => lines.join('\n'),
    gcTotals: async () => {
      const reply = await ask(child, 'gc-totals');
      return reply?.probe === 'gc-totals' ? { gcMs: reply.gcMs, gcCount: reply.gcCount, cpuMs: reply.cpuMs } : null;
    },
    collect: async () => {
      const reply = await ask(child, 'collect');
      return reply?.probe === 'collect' ? { rssBytes: reply.rssBytes, heapUsedBytes: reply.heapUsedBytes } : null;
    },
    stop: () => stopChild(child),
  };
  try {
    await waitHealthy(url, child, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await server.stop();
    throw new Error(`${options.name} did not start: ${(err as Error).message}\n${server.output()}`);
  }
  return server;
}

function withoutKeys(env: NodeJS.ProcessEnv, keys: string[]): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const key of keys) delete copy[key];
  return copy;
}

/** The direct children of `pid` (Linux /proc; none elsewhere). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** One question to the server's GC probe; null when it has no channel or does not answer in time. */
function ask(child: ChildProcess, probe: 'gc-totals' | 'collect'): Promise<ProbeReply | null> {
  if (!child.connected) return Promise.resolve(null);
  return new Promise((resolve) => {
    const done = (reply: ProbeReply | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(reply);
    };
    const onMessage = (message: ProbeReply) => {
      if (message?.probe === probe) done(message);
    };
    const timer = setTimeout(() => done(null), PROBE_TIMEOUT_MS);
    child.on('message', onMessage);
    child.send({ probe }, (err) => (err ? done(null) : undefined));
  });
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not healthy within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL after 12 s (Roomcast's own shutdown deadline is 10 s). */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 12_000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
