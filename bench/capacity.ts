// `npm run bench:capacity [-- --quick] [-- --only redis,check]`
// Measures what the capacity model (docs/capacity.md) needs and the rest of
// the benchmark does not: Redis published messages/s per shard through the
// Socket.IO adapter, and a check of the model on 3 nodes + a local Redis
// Cluster + PostgreSQL at fixed offered rates. Prints tables and writes
// bench-results/capacity-<time>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatCapacityReport, runCapacity, type CapacityPart, CAPACITY_PARTS } from './capacity/run.js';
import { createBenchDatabase, DEFAULT_DATABASE_URL, dropBenchDatabase } from './database.js';
import { pinSelf } from './processes.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: 'bench-results' },
  },
});

const parts = new Set((values.only ?? CAPACITY_PARTS.join(',')).split(',').map((s) => s.trim()) as CapacityPart[]);
for (const part of parts) {
  if (!CAPACITY_PARTS.includes(part)) {
    console.error(`unknown part "${part}"; choose from ${CAPACITY_PARTS.join(',')}`);
    process.exit(2);
  }
}

// Bounded: a default run takes about two minutes; past this something hangs.
const overall = setTimeout(
  () => {
    console.error('capacity benchmark took too long; stopping');
    process.exit(1);
  },
  (values.quick ? 2 : 5) * 60_000,
);
overall.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const log = (line: string) => console.error(`[capacity ${new Date().toISOString().slice(11, 19)}] ${line}`);
if (!pinSelf()) log('taskset unavailable or one core: load generator and servers share the CPU');
const baseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
const databaseUrl = parts.has('check') ? await createBenchDatabase(baseUrl) : null;
try {
  const report = await runCapacity({ quick: values.quick, parts, databaseUrl, log });
  const outDir = path.resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `capacity-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  console.log(formatCapacityReport(report));
  console.log(`\nJSON: ${file}`);
} finally {
  if (databaseUrl) await dropBenchDatabase(baseUrl, databaseUrl).catch((err: unknown) => log(`could not drop ${databaseUrl}: ${String(err)}`));
}
process.exit(0);
