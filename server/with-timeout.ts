/**
 * Races `work` against a timer: rejects with `Error(message)` after `ms`.
 * The timer is cleared either way, so nothing keeps the process alive.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, message = `no answer in ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
