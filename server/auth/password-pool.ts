import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import { LaneQueue, type PasswordLane } from './lane-queue.js';
import type { PasswordTask } from './password-worker.js';

export type { PasswordLane } from './lane-queue.js';

export interface PasswordPoolOptions {
  /** Worker threads (default: the cores this process may use, at most 4). */
  threads?: number;
  /** Tasks allowed to wait for a thread; past it, `unavailable` at once. */
  maxQueue?: number;
  /**
   * Share of `maxQueue` that sign-up hashes may hold, waiting or running
   * (default 0.5); the rest of the queue always stays free for sign-ins.
   */
  signUpShare?: number;
  /** Told of every task: done, or refused because its lane or the queue was full (the metrics count them). */
  onTask?: (op: PasswordTask['op'], lane: PasswordLane, outcome: 'done' | 'refused') => void;
}

/**
 * The worker module next to this one, with this one's extension: `.ts` when
 * the sources run (tsx), `.js` in the compiled build (dist/), which has no
 * TypeScript loader.
 */
const WORKER_URL = new URL(`./password-worker${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url).href;

/** Nice value added to the worker threads: the event loop thread always runs first. */
const WORKER_NICE = 19;
const DEFAULT_SIGN_UP_SHARE = 0.5;

/**
 * bcrypt in worker threads. bcryptjs is pure JS (~80 ms per comparison at
 * cost 10 here); on the event loop a login storm would stall every socket's
 * messages for that long. The workers run at the lowest CPU priority, so on
 * a busy core the fan-out keeps its latency and logins take the spare time.
 * A full queue answers `unavailable` (503) instead of letting waits grow
 * without bound.
 *
 * Sign-ups cannot starve sign-ins: a free thread takes waiting sign-ins
 * first (LaneQueue), and sign-up hashes may fill only their share of the
 * queue, so 200 registrations at once leave logins a place and no wait
 * behind them.
 */
export class PasswordPool {
  private readonly pool: Piscina<PasswordTask, string | boolean>;
  private readonly maxSignUps: number;
  private signUpsInFlight = 0;

  constructor(private readonly options: PasswordPoolOptions = {}) {
    const threads = options.threads ?? Math.max(1, Math.min(4, os.availableParallelism()));
    const maxQueue = options.maxQueue ?? 64 * threads;
    this.maxSignUps = Math.max(1, Math.floor(maxQueue * (options.signUpShare ?? DEFAULT_SIGN_UP_SHARE)));
    this.pool = new Piscina({
      filename: WORKER_URL,
      minThreads: 1,
      maxThreads: threads,
      maxQueue,
      taskQueue: new LaneQueue(),
      idleTimeout: 60_000,
      niceIncrement: WORKER_NICE,
    });
  }

  /** Hashes a new password; `sign-up` marks a registration's hash, which yields to sign-ins. */
  async hash(password: string, cost: number, lane: PasswordLane = 'sign-in'): Promise<string> {
    return (await this.run({ op: 'hash', password, cost }, lane)) as string;
  }

  async compare(password: string, hash: string): Promise<boolean> {
    return (await this.run({ op: 'compare', password, hash }, 'sign-in')) as boolean;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }

  private async run(task: PasswordTask, lane: PasswordLane): Promise<string | boolean> {
    const signUp = lane === 'sign-up';
    if (signUp && this.signUpsInFlight >= this.maxSignUps) throw this.refuse(task, lane, 'too many sign-ups at once, try again shortly');
    if (signUp) this.signUpsInFlight++;
    try {
      // The lane rides on piscina's queue-options symbol; structured cloning drops symbol keys, so the worker never sees it.
      const result = await this.pool.run(Object.assign({ ...task }, { [Piscina.queueOptionsSymbol]: { lane } }));
      this.options.onTask?.(task.op, lane, 'done');
      return result;
    } catch (err) {
      if (err instanceof Error && /queue is at limit/i.test(err.message)) throw this.refuse(task, lane, 'too many sign-ins at once, try again shortly');
      throw err;
    } finally {
      if (signUp) this.signUpsInFlight--;
    }
  }

  private refuse(task: PasswordTask, lane: PasswordLane, message: string): AppError {
    this.options.onTask?.(task.op, lane, 'refused');
    return new AppError('unavailable', message);
  }
}
