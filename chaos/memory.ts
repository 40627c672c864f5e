// How the chaos suite reads a node's memory: the resident set from /proc for
// a node process it started, and from the node's Prometheus metrics for a
// deployment it only reaches over HTTP; the V8 heap in use from the metrics
// in both cases (RSS rarely shrinks once V8 has grown its heap, so the heap in
// use is the better sign of what the node still holds).
import { rssBytes } from '../test/support/rss.js';
import { call } from './wire.js';

export interface MemorySample {
  /** Resident set size in bytes, or null where it cannot be read. */
  rss: number | null;
  /** V8 heap in use (`nodejs_heap_size_used_bytes`), or null. */
  heapUsed: number | null;
}

export type MemoryProbe = () => Promise<MemorySample>;

/** A gauge's value from a Prometheus text exposition, or null. */
function gauge(text: string, name: string): number | null {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?(?:e\\+?\\d+)?)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

async function scrape(url: string, token?: string): Promise<string | null> {
  const answer = await call(url, 'GET', '/metrics', token ? { token } : {}).catch(() => null);
  return answer?.status === 200 ? answer.text : null;
}

/** A node process this suite started: RSS from /proc, the heap from its /metrics (served to loopback). */
export const processMemory =
  (pid: number, url: string): MemoryProbe =>
  async () => {
    const text = await scrape(url);
    return { rss: rssBytes(pid), heapUsed: text === null ? null : gauge(text, 'nodejs_heap_size_used_bytes') };
  };

/**
 * Both from GET /metrics (with the METRICS_TOKEN when given). Behind a load
 * balancer each scrape may reach another node, so against a cluster this is
 * a rough bound, not one process's curve.
 */
export const metricsMemory =
  (url: string, token?: string): MemoryProbe =>
  async () => {
    const text = await scrape(url, token);
    return text === null ? { rss: null, heapUsed: null } : { rss: gauge(text, 'process_resident_memory_bytes'), heapUsed: gauge(text, 'nodejs_heap_size_used_bytes') };
  };
