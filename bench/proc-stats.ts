// CPU time of processes, read from /proc (Linux only; elsewhere
// the figures are null and the report says so).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds the process (all its threads) has used, or null. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by PostgreSQL for the benchmark's database: the
 * backends serving it (their title names the database) and the server's
 * shared processes (WAL writer, checkpointer: titles without a client
 * address). Backends of other databases (other work on the machine) are
 * left out. Null where /proc is missing.
 */
function postgresCpuSeconds(databaseName: string | null): number | null {
  const byPid = postgresCpuByPid(databaseName, false);
  return byPid ? [...byPid.values()].reduce((sum, seconds) => sum + seconds, 0) : null;
}

/**
 * The same per process (pid → CPU seconds), so that a caller can diff two
 * snapshots over the processes alive in both (a backend that exits takes its
 * CPU with it, which a plain sum would count as negative). `backendsOnly`
 * leaves out the shared processes, which also work for other databases.
 */
export function postgresCpuByPid(databaseName: string | null, backendsOnly: boolean): Map<number, number> | null {
  const byPid = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!name.startsWith('postgres')) continue;
      if (databaseName) {
        const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        const isBackend = /\(\d+\)|\[local\]/.test(title);
        if (isBackend && !title.includes(` ${databaseName} `)) continue;
        if (!isBackend && backendsOnly) continue;
      }
      const seconds = cpuSeconds(Number(entry));
      if (seconds !== null) byPid.set(Number(entry), seconds);
    } catch {
      // The process ended meanwhile.
    }
  }
  return byPid.size > 0 ? byPid : null;
}

/** A snapshot to diff: CPU of the server processes and of PostgreSQL. */
export interface CpuSnapshot {
  at: number;
  server: number | null;
  database: number | null;
}

let benchDatabase: string | null = null;

/** Names the database whose PostgreSQL backends count as the database's share. */
export function setBenchDatabase(name: string | null): void {
  benchDatabase = name;
}

export function cpuSnapshot(pids: readonly number[]): CpuSnapshot {
  let server: number | null = 0;
  for (const pid of pids) {
    const seconds = cpuSeconds(pid);
    server = seconds === null || server === null ? null : server + seconds;
  }
  return { at: performance.now(), server, database: postgresCpuSeconds(benchDatabase) };
}

/** This process's open-file limit (soft, as the servers it starts inherit it), from /proc/self/limits; null elsewhere. */
export function openFilesLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
