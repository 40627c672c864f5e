// What a server process spent over an interval: CPU (from /proc) and the
// part of it V8 spent in garbage-collection pauses (from the GC probe each
// server is started with, see gc-probe.mjs).
import { cpuSnapshot, type CpuSnapshot } from './proc-stats.js';
import type { ServerProcess } from './processes.js';

export interface UsageSnapshot extends CpuSnapshot {
  /** Main-thread GC pause time of all the servers so far (ms); null when a probe did not answer. */
  gcMs: number | null;
}

export interface GcShare {
  /** GC pause time in the interval (ms). */
  gcMs: number | null;
  /** GC ms / server CPU ms, in %. */
  gcPercent: number | null;
}

async function gcTotal(servers: readonly ServerProcess[]): Promise<number | null> {
  const totals = await Promise.all(servers.map((s) => s.gcTotals()));
  return totals.every((t) => t !== null) ? totals.reduce((sum, t) => sum + t!.gcMs, 0) : null;
}

/** Taken before an interval: the GC total first, so the CPU reading is the closer one to the work. */
export async function usageBefore(servers: readonly ServerProcess[]): Promise<UsageSnapshot> {
  const gcMs = await gcTotal(servers);
  return { ...cpuSnapshot(servers.map((s) => s.pid)), gcMs };
}

/** Taken after an interval: the CPU reading first, for the same reason. */
export async function usageAfter(servers: readonly ServerProcess[]): Promise<UsageSnapshot> {
  const cpu = cpuSnapshot(servers.map((s) => s.pid));
  return { ...cpu, gcMs: await gcTotal(servers) };
}

/** The GC share of the servers' CPU between two snapshots. */
export function gcShare(before: UsageSnapshot, after: UsageSnapshot): GcShare {
  if (before.gcMs === null || after.gcMs === null) return { gcMs: null, gcPercent: null };
  const gcMs = after.gcMs - before.gcMs;
  const cpuMs = before.server !== null && after.server !== null ? (after.server - before.server) * 1000 : null;
  return { gcMs: Math.round(gcMs), gcPercent: cpuMs ? Math.round((gcMs / cpuMs) * 1000) / 10 : null };
}
