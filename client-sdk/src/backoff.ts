/** Reconnect delays: exponential growth with full jitter. */
export interface BackoffOptions {
  /** Cap of the first delay, in ms (default 500). */
  minDelayMs?: number;
  /** Largest delay, in ms (default 20 000). */
  maxDelayMs?: number;
  /** Growth of the cap per attempt (default 2). */
  factor?: number;
}

/** The documented reconnect defaults: min 500 ms, max 20 s, factor 2. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = Object.freeze({ minDelayMs: 500, maxDelayMs: 20_000, factor: 2 });

/**
 * Full jitter ("Exponential Backoff And Jitter"): a uniformly random delay in
 * [0, min(max, min · factor^attempt)], so clients that lost the same server
 * do not come back in lockstep. `attempt` counts from 0.
 */
export function backoffDelay(attempt: number, options: Required<BackoffOptions>, random: () => number = Math.random): number {
  const cap = Math.min(options.maxDelayMs, options.minDelayMs * options.factor ** Math.max(0, attempt));
  return Math.floor(random() * cap);
}

export function resolveBackoff(options: BackoffOptions = {}): Required<BackoffOptions> {
  const resolved = { ...DEFAULT_BACKOFF, ...options };
  if (!(resolved.minDelayMs >= 0) || !(resolved.maxDelayMs >= resolved.minDelayMs) || !(resolved.factor >= 1)) {
    throw new TypeError('reconnect: need 0 <= minDelayMs <= maxDelayMs and factor >= 1');
  }
  return Object.freeze(resolved);
}
