// `npm run bench [-- --quick] [-- --only a,b] [-- --sockets N[,M]] [-- --cpu-prof] [-- --workers N] [-- --webhook] [-- --from-source]`
// Prints the table and writes bench-results/bench-<time>.json and .svg. See docs/benchmarks.md.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createBenchDatabase, DEFAULT_DATABASE_URL, dropBenchDatabase } from './database.js';
import { compileServers, SOURCE_ENTRIES, type ServerEntries } from './compiled.js';
import { pinSelf } from './processes.js';
import { renderChart } from './chart.js';
import { writeOutputs } from './output.js';
import { formatReport, type BenchReport } from './report.js';
import { ALL_SCENARIOS, runBenchmark, type ScenarioName } from './run.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    sockets: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    // Both servers from their TypeScript sources under tsx instead of compiled (compiled.ts).
    'from-source': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench-results' },
    'keep-db': { type: 'boolean', default: false },
    // Roomcast with WORKERS=N (needs Redis: REDIS_URL or the local one); nothing is pinned then.
    workers: { type: 'string', default: '1' },
    // Scenario (b) once more with one webhook endpoint subscribed to message.created (what it costs).
    webhook: { type: 'boolean', default: false },
    // For profiling one load level: first rate (msg/s) and number of ramp steps of (a) and (b).
    'start-rate': { type: 'string' },
    'max-steps': { type: 'string' },
    // Draws the chart of a saved report (bench-<time>.json) to the given .svg and runs nothing.
    'chart-from': { type: 'string' },
    'chart-to': { type: 'string' },
  },
});

if (values['chart-from']) {
  const report = JSON.parse(readFileSync(values['chart-from'], 'utf8')) as BenchReport;
  const svg = await renderChart(report);
  if (svg === null) {
    console.error('that report has neither scenario (a) nor (b): nothing to draw');
    process.exit(2);
  }
  const to = values['chart-to'] ?? values['chart-from'].replace(/\.json$/, '') + '.svg';
  writeFileSync(to, svg);
  console.log(`SVG: ${to}`);
  process.exit(0);
}

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
const idleSockets = values.sockets ? values.sockets.split(',').map(Number) : undefined;
if (idleSockets !== undefined && !idleSockets.every((n) => Number.isInteger(n) && n > 0 && n <= 50_000)) {
  console.error('--sockets takes positive integers up to 50000, comma-separated (one idle point each)');
  process.exit(2);
}

// Bounded: the default run takes about six minutes; past this something hangs.
// Idle points asked for by --sockets get three more minutes per 10,000 sockets (both servers, fresh each).
const extraMinutes = idleSockets ? Math.ceil(idleSockets.reduce((a, b) => a + b, 0) / 10_000) * 3 : 0;
const overall = setTimeout(
  () => {
    console.error('benchmark took too long; stopping');
    process.exit(1);
  },
  ((values.quick ? 3 : 14) + extraMinutes + (values.webhook ? (values.quick ? 1 : 4) : 0)) * 60_000,
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
// Bare's profiles go beside Roomcast's, in their own folder, to compare the two.
const bareNodeFlags = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.join(outDir, 'profiles', 'bare')}`] : [];
let compiled: (ServerEntries & { remove(): Promise<void> }) | null = null;
try {
  if (!values['from-source']) {
    log('compiling both servers (npm run build, esbuild)');
    compiled = await compileServers();
  }
  const entries = compiled ?? SOURCE_ENTRIES;
  const rampOverride = {
    ...(values['start-rate'] ? { startRate: Number(values['start-rate']) } : {}),
    ...(values['max-steps'] ? { maxSteps: Number(values['max-steps']), refineSteps: 0 } : {}),
  };
  const report = await runBenchmark({ quick: values.quick, scenarios, databaseUrl, redisUrl, idleSockets, roomcastNodeFlags, bareNodeFlags, entries, log, rampOverride, workers, webhook: values.webhook });
  const files = await writeOutputs(report, outDir);
  console.log(formatReport(report));
  console.log(`\nJSON: ${files.json}`);
  if (files.svg) console.log(`SVG:  ${files.svg}`);
} finally {
  await compiled?.remove();
  if (databaseUrl !== 'memory' && !values['keep-db']) await dropBenchDatabase(baseUrl, databaseUrl).catch((err: unknown) => log(`could not drop ${databaseUrl}: ${String(err)}`));
}
process.exit(0);
