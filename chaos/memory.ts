// How the chaos suite reads a node's resident memory: from /proc for a node
// process it started, from the node's Prometheus metrics for a deployment it
// only reaches over HTTP.
import { rssBytes } from '../test/support/rss.js';
import { call } from './wire.js';

/** Resident memory in bytes, or null where it cannot be read. */
export type MemoryProbe = () => Promise<number | null>;

export const processMemory =
  (pid: number): MemoryProbe =>
  async () =>
    rssBytes(pid);

/**
 * `process_resident_memory_bytes` from GET /metrics (with the METRICS_TOKEN
 * when given). Behind a load balancer each scrape may reach another node, so
 * against a cluster this is a rough bound, not one process's curve.
 */
export const metricsMemory =
  (url: string, token?: string): MemoryProbe =>
  async () => {
    const answer = await call(url, 'GET', '/metrics', token ? { token } : {}).catch(() => null);
    if (answer?.status !== 200) return null;
    const match = /^process_resident_memory_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m.exec(answer.text);
    return match ? Number(match[1]) : null;
  };
