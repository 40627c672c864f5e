// Starts one Roomcast node: `npm start`.
import 'dotenv/config';
import { createApp } from './app.js';
import { ConfigError, loadConfig, usesRedis } from './config.js';
import { createLogger } from './logger.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

const logger = createLogger(config.logLevel, config.nodeId);
process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { err: reason }));
process.on('uncaughtException', (err) => {
  logger.error('uncaught exception; exiting', { err });
  process.exit(1);
});

const app = await createApp(config, { logger });
const port = await app.listen();
logger.info('roomcast is listening', {
  url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
  database: app.database.kind,
  redis: usesRedis(config),
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
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
  });
}
