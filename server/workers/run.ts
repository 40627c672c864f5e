import cluster from 'node:cluster';
import type { Config } from '../config.js';

/** WORKERS > 1: this process is the primary (first start) or one of its workers (forked by it). */
export async function runWorkers(config: Config): Promise<void> {
  if (cluster.isPrimary) await (await import('./primary.js')).runPrimary(config);
  else await (await import('./worker.js')).runWorker(config);
}
