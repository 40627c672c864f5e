// How a serving process stops: one node (`npm start`) or one worker of WORKERS=N.
import type { RoomcastApp } from './app.js';
import type { Logger } from './logger.js';

/** The contract's bound on a graceful stop; past it the process exits 1. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/**
 * Logs errors the code did not catch (an uncaught exception ends the
 * process: its state is unknown), for a node and for each worker.
 */
export function logUncaught(logger: Logger): void {
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { err: reason }));
  process.on('uncaughtException', (err) => {
    logger.error('uncaught exception; exiting', { err });
    process.exit(1);
  });
}

/**
 * Drains `app` (app.close(): refuse new handshakes, tell clients, commit and
 * acknowledge in-flight sends) once, on the first of SIGTERM, SIGINT or
 * `stop()`, then exits 0, or 1 when it fails or outlasts SHUTDOWN_DEADLINE_MS.
 */
export function stopOnSignals(app: RoomcastApp, logger: Logger): { stop(reason: string): void } {
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal: reason });
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    app.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal));
  return { stop };
}
