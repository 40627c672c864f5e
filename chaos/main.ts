// `npm run chaos`: the full chaos suite (longer faults, 100,000 fuzzed socket
// payloads, 10,000 fuzzed REST requests).
// `npm run chaos -- --quick` runs the quick form that `npm test` runs;
// `--only kill-9,sigterm,change-log,attacks` picks rows; the change-log
// property's size: `--change-log-runs N --change-log-steps N --change-log-seed N`;
// `--target URL` runs the black-box rows against a running deployment (see
// docs/chaos.md, "Against a deployment"). Prints the summary tables, writes
// JSON to test-artifacts/chaos/, exits 1 if any invariant broke.
import { parseArgs } from 'node:util';
import { missingToolsMessage, missingTools } from './preflight.js';
import { startChaosEnv } from './environment.js';
import { FAULTS, FULL, QUICK, attackTable, faultTable, runAttacks, runChangeLog, writeReport, type ChaosReport, type ChaosSettings, type FaultName } from './runner.js';
import { runTarget } from './target.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    target: { type: 'string' },
    'admin-user': { type: 'string' },
    'admin-password': { type: 'string' },
    'jwt-secret': { type: 'string' },
    'metrics-token': { type: 'string' },
    'fuzz-events': { type: 'string' },
    'fuzz-rest': { type: 'string' },
    'login-attempts': { type: 'string' },
    'change-log-runs': { type: 'string' },
    'change-log-steps': { type: 'string' },
    'change-log-seed': { type: 'string' },
  },
});

const count = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} wants a whole number, not ${value}`);
  return n;
};
const base = values.quick ? QUICK : FULL;
const settings: ChaosSettings = {
  ...base,
  fuzz: { ...base.fuzz, events: count('fuzz-events', values['fuzz-events'], base.fuzz.events), rest: count('fuzz-rest', values['fuzz-rest'], base.fuzz.rest) },
  changeLog: {
    ...base.changeLog,
    runs: count('change-log-runs', values['change-log-runs'], base.changeLog.runs),
    steps: count('change-log-steps', values['change-log-steps'], base.changeLog.steps),
    ...(values['change-log-seed'] === undefined ? {} : { seed: count('change-log-seed', values['change-log-seed'], 0) }),
  },
};
const only = values.only ? new Set(values.only.split(',')) : null;

const started = Date.now();
const report: ChaosReport = { settings, startedAt: new Date(started).toISOString(), durationMs: 0, faults: [], attacks: [], skipped: [] };

if (values.target) {
  const adminUser = values['admin-user'] ?? process.env.CHAOS_ADMIN_USER;
  const adminPassword = values['admin-password'] ?? process.env.CHAOS_ADMIN_PASSWORD;
  if (!adminUser || !adminPassword) {
    console.error('--target needs admin credentials: --admin-user/--admin-password or CHAOS_ADMIN_USER/CHAOS_ADMIN_PASSWORD');
    process.exit(2);
  }
  console.log(`target: ${values.target}`);
  const loginAttempts = values['login-attempts'] === undefined ? undefined : count('login-attempts', values['login-attempts'], 0);
  const out = await runTarget({
    url: values.target,
    adminUser,
    adminPassword,
    settings,
    jwtSecret: values['jwt-secret'] ?? process.env.CHAOS_JWT_SECRET,
    metricsToken: values['metrics-token'] ?? process.env.CHAOS_METRICS_TOKEN,
    ...(loginAttempts === undefined ? {} : { loginAttempts }),
    log: (line) => console.log(line),
  });
  report.target = out.target;
  report.faults.push(...out.faults);
  report.attacks.push(...out.attacks);
  report.skipped.push(...out.skipped);
} else {
  const missing = await missingTools();
  if (missing.length) {
    console.error(missingToolsMessage(missing));
    process.exit(1);
  }
  const env = await startChaosEnv();
  try {
    for (const name of Object.keys(FAULTS) as FaultName[]) {
      if (only && !only.has(name)) continue;
      console.log(`fault: ${name} …`);
      report.faults.push(await FAULTS[name](env, settings.faults));
    }
    if (!only || only.has('change-log')) {
      console.log('change-log property …');
      report.faults.push(await runChangeLog(env, settings.changeLog));
    }
    if (!only || only.has('attacks')) {
      console.log('attacks …');
      report.attacks.push(...(await runAttacks(env, settings, (line) => console.log(line))));
    }
  } finally {
    await env.destroy();
  }
}
report.durationMs = Date.now() - started;
const file = writeReport(report);
console.log(`\nchaos suite (${settings.name}${report.target ? `, target ${report.target}` : ''}), ${(report.durationMs / 1000).toFixed(0)} s\n`);
console.log(faultTable(report.faults));
console.log('');
console.log(attackTable(report.attacks));
if (report.skipped.length) console.log(`\nskipped in target mode (local only): ${report.skipped.map((s) => `${s.row} (${s.reason})`).join('; ')}`);
const broken = [...report.faults.map((r) => [r.fault, r.violations] as const), ...report.attacks.map((r) => [r.attack, r.violations] as const)].filter(([, v]) => v.length > 0);
for (const [name, violations] of broken) console.log(`\n${name}:\n  - ${violations.join('\n  - ')}`);
for (const r of report.faults) console.log(`\n${r.fault}: ${JSON.stringify(r.facts)}`);
for (const r of report.attacks) if (Object.keys(r.facts).length) console.log(`\n${r.attack}: ${JSON.stringify(r.facts)}`);
console.log(`\nJSON: ${file}`);
process.exit(broken.length ? 1 : 0);
