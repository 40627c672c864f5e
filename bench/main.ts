// `npm run bench [-- --quick] [-- --only a,b] [-- --sockets N] [-- --cpu-prof] [-- --workers N] [-- --webhook]`
// Prints the table and writes bench-results/bench-<time>.json. See docs/benchmarks.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createBenchDatabase, DEFAULT_DATABASE_URL, dropBenchDatabase } from './database.js';
import { pinSelf } from './processes.js';
import { formatReport } from './report.js';
import { ALL_SCENARIOS, runBenchmark, type ScenarioName } from './run.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    sockets: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench-results' },
    'keep-db': { type: 'boolean', default: false },
    // Roomcast with WORKERS=N (needs Redis: REDIS_URL or the local one); nothing is pinned then.
    workers: { type: 'string', default: '1' },
    // Scenario (b) once more with one webhook endpoint subscribed to message.created (what it costs).
    webhook: { type: 'boolean', default: false },
    // For profiling one load level: first rate (msg/s) and number of ramp steps of (a) and (b).
    'start-rate': { type: 'string' },
    'max-steps': { type: 'string' },
  },
});

const scenarios = new Set((values.only ?? ALL_SCENARIOS.join(',')).split(',').map((s) => s.trim()) as ScenarioName[]);
for (const s of scenarios) {
  if (!ALL_SCENARIOS.includes(s)) {
    console.error(`unknown scenario "${s}"; choose from ${ALL_SCENARIOS.join(',')}`);
    process.exit(2);
  }
}
const workers = Number(values.workers);
if (!(Number.isInteger(workers) && workers >= 1)) {
  console.error('--workers takes a positive integer');
  process.exit(2);
}
const idleSockets = values.sockets ? Number(values.sockets) : undefined;
if (idleSockets !== undefined && !(Number.isInteger(idleSockets) && idleSockets > 0)) {
  console.error('--sockets takes a positive integer');
  process.exit(2);
}

// Bounded: the default run takes about five minutes; past this something hangs.
const overall = setTimeout(
  () => {
    console.error('benchmark took too long; stopping');
    process.exit(1);
  },
  (values.quick ? 3 : 12) * 60_000 + (values.webhook ? (values.quick ? 1 : 4) * 60_000 : 0),
);
overall.unref();

// Stopped from outside: exit, which kills the server processes (processes.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const baseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const outDir = path.resolve(values.out);
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

if (workers > 1) log(`Roomcast with WORKERS=${workers}: nothing pinned, the workers and the load generator share every core`);
else if (!pinSelf()) log('taskset unavailable or one core: load generator and servers share the CPU');
if (workers > 1 && baseUrl === 'memory') {
  console.error('--workers needs PostgreSQL (DATABASE_URL): workers cannot share the embedded database');
  process.exit(2);
}
const databaseUrl = baseUrl === 'memory' ? 'memory' : await createBenchDatabase(baseUrl);
const roomcastNodeFlags = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.join(outDir, 'profiles')}`] : [];
try {
  const rampOverride = {
    ...(values['start-rate'] ? { startRate: Number(values['start-rate']) } : {}),
    ...(values['max-steps'] ? { maxSteps: Number(values['max-steps']), refineSteps: 0 } : {}),
  };
  const report = await runBenchmark({ quick: values.quick, scenarios, databaseUrl, redisUrl, idleSockets, roomcastNodeFlags, log, rampOverride, workers, webhook: values.webhook });
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  console.log(formatReport(report));
  console.log(`\nJSON: ${file}`);
} finally {
  if (databaseUrl !== 'memory' && !values['keep-db']) await dropBenchDatabase(baseUrl, databaseUrl).catch((err: unknown) => log(`could not drop ${databaseUrl}: ${String(err)}`));
}
process.exit(0);
