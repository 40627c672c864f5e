// What the chaos suite needs on the machine: PostgreSQL's binaries (for its
// own throw-away cluster) and redis-server.
import { hasCommand } from '../test/support/processes.js';
import { findPgBin } from './pg-cluster.js';

export async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  if (!findPgBin()) missing.push('PostgreSQL binaries (initdb, pg_ctl under /usr/lib/postgresql/*/bin)');
  if (!(await hasCommand('redis-server'))) missing.push('redis-server');
  return missing;
}

export function missingToolsMessage(missing: string[]): string {
  return `the chaos suite needs ${missing.join(' and ')}`;
}
