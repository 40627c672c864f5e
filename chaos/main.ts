// `npm run chaos`: the full chaos suite (longer faults, more fuzz runs).
// `npm run chaos -- --quick` runs the quick form that `npm test` runs;
// `--only kill-9,sigterm,change-log,attacks` picks rows. The change-log
// property's size: `--change-log-runs N --change-log-steps N --change-log-seed N`.
// Prints the summary tables, writes JSON to test-artifacts/chaos/, exits 1 if
// any invariant broke.
import { missingToolsMessage, missingTools } from './preflight.js';
import { startChaosEnv } from './environment.js';
import { FAULTS, FULL, QUICK, attackTable, faultTable, runAttacks, runChangeLog, writeReport, type ChaosReport, type FaultName } from './runner.js';

const args = process.argv.slice(2);
/** The number after `--name`, if given. */
const numberArg = (name: string): number | undefined => {
  const at = args.indexOf(name);
  const value = at >= 0 ? Number(args[at + 1]) : Number.NaN;
  return Number.isInteger(value) ? value : undefined;
};
const base = args.includes('--quick') ? QUICK : FULL;
const sized = { runs: numberArg('--change-log-runs'), steps: numberArg('--change-log-steps'), seed: numberArg('--change-log-seed') };
const settings = {
  ...base,
  changeLog: { ...base.changeLog, ...Object.fromEntries(Object.entries(sized).filter(([, v]) => v !== undefined)) },
};
const onlyArg = args[args.indexOf('--only') + 1];
const only = args.includes('--only') && onlyArg ? new Set(onlyArg.split(',')) : null;

const missing = await missingTools();
if (missing.length) {
  console.error(missingToolsMessage(missing));
  process.exit(1);
}

const started = Date.now();
const report: ChaosReport = { settings, startedAt: new Date(started).toISOString(), durationMs: 0, faults: [], attacks: [] };
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
    report.attacks.push(...(await runAttacks(env, settings)));
  }
} finally {
  await env.destroy();
}
report.durationMs = Date.now() - started;
const file = writeReport(report);
console.log(`\nchaos suite (${settings.name}), ${(report.durationMs / 1000).toFixed(0)} s\n`);
console.log(faultTable(report.faults));
console.log('');
console.log(attackTable(report.attacks));
const broken = [...report.faults.map((r) => [r.fault, r.violations] as const), ...report.attacks.map((r) => [r.attack, r.violations] as const)].filter(([, v]) => v.length > 0);
for (const [name, violations] of broken) console.log(`\n${name}:\n  - ${violations.join('\n  - ')}`);
for (const r of report.faults) console.log(`\n${r.fault}: ${JSON.stringify(r.facts)}`);
for (const r of report.attacks) if (Object.keys(r.facts).length) console.log(`\n${r.attack}: ${JSON.stringify(r.facts)}`);
console.log(`\nJSON: ${file}`);
process.exit(broken.length ? 1 : 0);
