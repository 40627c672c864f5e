// Starts Roomcast: `npm start`. One node in this process, or with WORKERS=N
// (N > 1) a primary that forks N worker processes, each a node
// (server/workers/, docs/operations.md "All cores of one box").
import 'dotenv/config';
import { createApp } from './app.js';
import { ConfigError, loadConfig, usesRedis, type Config } from './config.js';
import { logUncaught, stopOnSignals } from './lifecycle.js';
import { createLogger } from './logger.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

if (config.workers > 1) {
  // Loaded only here: one process (WORKERS unset or 1) loads no cluster code.
  await (await import('./workers/run.js')).runWorkers(config);
} else {
  const logger = createLogger(config.logLevel, config.nodeId);
  logUncaught(logger);
  const app = await createApp(config, { logger });
  const port = await app.listen();
  logger.info('roomcast is listening', {
    url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
    database: app.database.kind,
    redis: usesRedis(config),
  });
  stopOnSignals(app, logger);
}
