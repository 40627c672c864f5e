// One reader of another process's resident memory, for the benchmark and the chaos runner.
import { readFileSync } from 'node:fs';

/** Resident set size of a process in bytes (VmRSS, Linux), or null where /proc has no answer. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}
