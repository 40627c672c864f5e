import { Piscina, type TaskQueue } from 'piscina';

/** A queued piscina task (the package exports the queue's interface, not its item type). */
type Task = Parameters<TaskQueue['push']>[0];

/** Who waits for a password thread: sign-ins (logins) go before sign-ups. */
export type PasswordLane = 'sign-in' | 'sign-up';

/** Options a task carries to the queue (piscina hands them over under its queue-options symbol). */
export interface LaneOptions {
  lane: PasswordLane;
}

const laneOf = (task: Task): PasswordLane => {
  const options = (task as unknown as Record<symbol, Partial<LaneOptions> | null | undefined>)[Piscina.queueOptionsSymbol];
  return options?.lane === 'sign-up' ? 'sign-up' : 'sign-in';
};

/**
 * Piscina's task queue with two lanes: a free thread always takes the oldest
 * sign-in first, so a burst of registrations (one ~80 ms bcrypt hash each)
 * never makes logins wait behind it; sign-ups take the threads logins leave.
 */
export class LaneQueue implements TaskQueue {
  private readonly lanes: Record<PasswordLane, Task[]> = { 'sign-in': [], 'sign-up': [] };

  get size(): number {
    return this.lanes['sign-in'].length + this.lanes['sign-up'].length;
  }

  push(task: Task): void {
    this.lanes[laneOf(task)].push(task);
  }

  unshift(task: Task): void {
    this.lanes[laneOf(task)].unshift(task);
  }

  shift(): Task | null {
    return this.lanes['sign-in'].shift() ?? this.lanes['sign-up'].shift() ?? null;
  }

  remove(task: Task): void {
    const lane = this.lanes[laneOf(task)];
    const index = lane.indexOf(task);
    if (index >= 0) lane.splice(index, 1);
  }
}
