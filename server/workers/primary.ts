// The primary of WORKERS=N: forks N workers (node:cluster), owns the public
// port and hands each connection, unread, to the worker its client's address
// maps to; replaces a worker that dies; on SIGTERM drains them all.
import cluster, { type Worker } from 'node:cluster';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Config } from '../config.js';
import { logUncaught, SHUTDOWN_DEADLINE_MS } from '../lifecycle.js';
import { createLogger } from '../logger.js';
import { CONNECTION_MESSAGE, isMessage, READY_MESSAGE, workerFor } from './routing.js';

/** Connections held for a worker that is (re)starting: at most this many per worker… */
const MAX_WAITING = 1_024;
/** …each for at most this long (a worker starts in a few seconds: migrations, Redis, the web bundle). */
const MAX_WAIT_MS = 30_000;

interface Slot {
  readonly index: number;
  worker: Worker;
  /** Whether `worker` has said it serves. */
  ready: boolean;
  /** Whether any worker of this slot ever served (a first start that fails stops the primary). */
  served: boolean;
  /** Connections that arrived while no worker of this slot served. */
  readonly waiting: Set<Socket>;
}

export async function runPrimary(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, config.nodeId);
  logUncaught(logger);
  const count = config.workers;
  let stopping = false;

  let exitCode = 0;
  /** Stops every worker (each drains as one node does), then exits with `exitCode`. */
  const stopWorkers = () => {
    stopping = true;
    for (const slot of slots) {
      if (!slot.worker.isDead()) slot.worker.process.kill('SIGTERM');
    }
    if (slots.every((slot) => slot.worker.isDead())) finished();
    setTimeout(() => {
      logger.error('workers took too long to stop; killing them');
      for (const slot of slots) slot.worker.process.kill('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
  };
  const fail = (message: string, meta: Record<string, unknown> = {}) => {
    logger.error(message, meta);
    exitCode = 1;
    if (!stopping) stopWorkers();
  };

  const fork = (index: number): Worker => {
    // Each worker is a node of its own: its NODE_ID says which worker of which box.
    const worker = cluster.fork({ NODE_ID: `${config.nodeId}-w${index}` });
    worker.on('message', (message: unknown) => {
      if (!isMessage(message, READY_MESSAGE)) return;
      const slot = slots[index]!;
      if (slot.worker !== worker) return;
      slot.ready = true;
      slot.served = true;
      logger.info('worker is serving', { worker: index, pid: worker.process.pid });
      for (const socket of slot.waiting) handOver(slot, socket);
      slot.waiting.clear();
      if (slots.every((s) => s.ready)) allReady();
    });
    worker.on('exit', (code, signal) => exited(index, worker, code, signal));
    return worker;
  };

  const exited = (index: number, worker: Worker, code: number | null, signal: string | null) => {
    const slot = slots[index]!;
    if (slot.worker !== worker) return;
    slot.ready = false;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      for (const socket of slot.waiting) socket.destroy();
      slot.waiting.clear();
      if (slots.every((s) => s.worker.isDead())) finished();
      return;
    }
    if (!slot.served) {
      fail('a worker could not start; stopping', { worker: index, pid: worker.process.pid, code, signal });
      return;
    }
    // Its clients reconnect (to its replacement: same addresses, same slot) and catch up by seq.
    logger.error('worker died; starting a replacement', { worker: index, pid: worker.process.pid, code, signal });
    slot.worker = fork(index);
  };

  const handOver = (slot: Slot, socket: Socket) => {
    if (socket.destroyed) return;
    try {
      slot.worker.send({ roomcast: CONNECTION_MESSAGE }, socket, { keepOpen: false }, (err: Error | null) => {
        if (err) socket.destroy();
      });
    } catch {
      socket.destroy();
    }
  };

  const route = (socket: Socket) => {
    // A reset before the hand-over is the client's business, not the primary's.
    socket.on('error', () => {});
    const slot = slots[workerFor(socket.remoteAddress, count)]!;
    if (slot.ready) return handOver(slot, socket);
    if (stopping || slot.waiting.size >= MAX_WAITING) return void socket.destroy();
    slot.waiting.add(socket);
    const timer = setTimeout(() => {
      if (slot.waiting.delete(socket)) socket.destroy();
    }, MAX_WAIT_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      slot.waiting.delete(socket);
    });
  };

  // Paused: the primary never reads, so a worker gets every byte (see routing.ts).
  const server = createServer({ pauseOnConnect: true }, route);
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, worker: fork(index), ready: false, served: false, waiting: new Set<Socket>() }));

  let listening = false;
  const allReady = () => {
    if (listening || stopping) return;
    listening = true;
    server.once('error', (err) => fail('the primary could not listen', { err }));
    server.listen(config.port, config.host, () => {
      const { port } = server.address() as AddressInfo;
      logger.info('roomcast is listening', {
        url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
        workers: count,
        pids: slots.map((slot) => slot.worker.process.pid),
        database: 'postgres',
        redis: true,
      });
    });
  };

  const finished = () => {
    server.close();
    logger.info('stopped');
    process.exit(exitCode);
  };

  // Each worker drains as one node does (app.close()); the primary keeps
  // routing meanwhile, so a polling client still reaches its worker during
  // the grace, and stops once every worker has exited.
  const stop = (signal: string) => {
    if (stopping) return;
    logger.info('shutting down', { signal, workers: count });
    stopWorkers();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal));
}
