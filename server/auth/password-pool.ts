import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import type { PasswordTask } from './password-worker.js';

export interface PasswordPoolOptions {
  /** Worker threads (default: the cores this process may use, at most 4). */
  threads?: number;
  /** Tasks allowed to wait for a thread; past it, `unavailable` at once. */
  maxQueue?: number;
}

/**
 * The worker module next to this one, with this one's extension: `.ts` when
 * the sources run (tsx), `.js` in the compiled build (dist/), which has no
 * TypeScript loader.
 */
const WORKER_URL = new URL(`./password-worker${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url).href;

/** Nice value added to the worker threads: the event loop thread always runs first. */
const WORKER_NICE = 19;

/**
 * bcrypt in worker threads. bcryptjs is pure JS (~80 ms per comparison at
 * cost 10 here); on the event loop a login storm would stall every socket's
 * messages for that long. The workers run at the lowest CPU priority, so on
 * a busy core the fan-out keeps its latency and logins take the spare time.
 * A full queue answers `unavailable` (503) instead of letting waits grow
 * without bound.
 */
export class PasswordPool {
  private readonly pool: Piscina<PasswordTask, string | boolean>;

  constructor(options: PasswordPoolOptions = {}) {
    const threads = options.threads ?? Math.max(1, Math.min(4, os.availableParallelism()));
    this.pool = new Piscina({
      filename: WORKER_URL,
      minThreads: 1,
      maxThreads: threads,
      maxQueue: options.maxQueue ?? 64 * threads,
      idleTimeout: 60_000,
      niceIncrement: WORKER_NICE,
    });
  }

  async hash(password: string, cost: number): Promise<string> {
    return (await this.run({ op: 'hash', password, cost })) as string;
  }

  async compare(password: string, hash: string): Promise<boolean> {
    return (await this.run({ op: 'compare', password, hash })) as boolean;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }

  private async run(task: PasswordTask): Promise<string | boolean> {
    try {
      return await this.pool.run(task);
    } catch (err) {
      if (err instanceof Error && /queue is at limit/i.test(err.message)) {
        throw new AppError('unavailable', 'too many sign-ins at once, try again shortly');
      }
      throw err;
    }
  }
}
