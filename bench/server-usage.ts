// What a server process spent over an interval: CPU (from /proc) and the
// part of it V8 spent in garbage-collection pauses (from the GC probe each
// server is started with, see gc-probe.mjs).
import { cpuSnapshot, type CpuSnapshot } from './proc-stats.js';
import type { ServerProcess } from './processes.js';

export interface UsageSnapshot extends CpuSnapshot {
  /** Main-thread GC pause time of all the servers so far (ms); null when a probe did not answer. */
  gcMs: number | null;
  /** Their CPU time as each process counts it (ms, µs resolution); null when a probe did not answer. */
  probeCpuMs: number | null;
}

export interface GcShare {
  /** GC pause time in the interval (ms). */
  gcMs: number | null;
  /** GC ms / server CPU ms, in %. */
  gcPercent: number | null;
}

async function probeTotals(servers: readonly ServerProcess[]): Promise<{ gcMs: number | null; probeCpuMs: number | null }> {
  const totals = await Promise.all(servers.map((s) => s.gcTotals()));
  if (!totals.every((t) => t !== null)) return { gcMs: null, probeCpuMs: null };
  return { gcMs: totals.reduce((sum, t) => sum + t!.gcMs, 0), probeCpuMs: totals.reduce((sum, t) => sum + t!.cpuMs, 0) };
}

/** Taken before an interval: the probe first, so the /proc reading is the closer one to the work. */
export async function usageBefore(servers: readonly ServerProcess[]): Promise<UsageSnapshot> {
  const probe = await probeTotals(servers);
  return { ...cpuSnapshot(servers.flatMap((s) => s.pids())), ...probe };
}

/** Taken after an interval: the /proc reading first, for the same reason. */
export async function usageAfter(servers: readonly ServerProcess[]): Promise<UsageSnapshot> {
  const cpu = cpuSnapshot(servers.flatMap((s) => s.pids()));
  return { ...cpu, ...(await probeTotals(servers)) };
}

/**
 * The GC share of the servers' CPU between two snapshots. Both figures come
 * from the same probe answers, so the interval is the same for both, and the
 * CPU has µs resolution (a short step may use less than one /proc tick).
 */
export function gcShare(before: UsageSnapshot, after: UsageSnapshot): GcShare {
  if (before.gcMs === null || after.gcMs === null || before.probeCpuMs === null || after.probeCpuMs === null) return { gcMs: null, gcPercent: null };
  const gcMs = after.gcMs - before.gcMs;
  const cpuMs = after.probeCpuMs - before.probeCpuMs;
  return { gcMs: Math.round(gcMs), gcPercent: cpuMs > 0 ? Math.round((gcMs / cpuMs) * 1000) / 10 : null };
}
