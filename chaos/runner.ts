// The chaos runner: sets up the environment, runs the fault scenarios and the
// attacks, and reports one row per fault (acked, stored, delivered, lost,
// duplicated, recovery) and one per attack (runs, violations).
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TEST_JWT_SECRET } from '../test/support/processes.js';
import { ARTIFACTS_DIR } from '../test/support/services.js';
import { loginRaceAttack, registrationFloodAttack, type AttackRow } from './attacks.js';
import { historyFloodAttack, roomFloodAttack } from './abuse-attacks.js';
import { blackBoxAttacks, type FuzzCounts } from './black-box.js';
import { CHANGE_LOG_NODE_ENV, FULL_CHANGE_LOG, QUICK_CHANGE_LOG, changeLogProperty, type ChangeLogSize } from './change-log.js';
import type { ChaosEnv } from './environment.js';
import { FULL_FAULTS, QUICK_FAULTS, hangDatabase, hangRedis, killNode, restartPostgres, rollingRestart, sigtermNode, stopRedis, webhooksUnderFaults, type FaultRow, type FaultSettings } from './faults.js';
import { processMemory } from './memory.js';
import { slowConsumer } from './slow-consumer.js';
import { call, register } from './wire.js';

export interface ChaosSettings {
  name: 'quick' | 'full';
  faults: FaultSettings;
  fuzz: FuzzCounts;
  loginAttempts: number;
  /** Target mode's traffic for the invariants (no fault: a deployment's processes are not ours to kill). */
  targetLoad: { clients: number; durationMs: number; intervalMs: number };
  /** The change-log property's size (`--change-log-runs`, `--change-log-steps`, `--change-log-seed` override it). */
  changeLog: ChangeLogSize;
}

export const QUICK: ChaosSettings = {
  name: 'quick',
  faults: QUICK_FAULTS,
  fuzz: { events: 300, rest: 300, restConcurrency: 8, socketsPerRole: 2, inFlightPerSocket: 4, rssGrowthMiB: 200 },
  loginAttempts: 60,
  targetLoad: { clients: 3, durationMs: 2_000, intervalMs: 40 },
  changeLog: QUICK_CHANGE_LOG,
};
export const FULL: ChaosSettings = {
  name: 'full',
  faults: FULL_FAULTS,
  fuzz: { events: 100_000, rest: 10_000, restConcurrency: 16, socketsPerRole: 3, inFlightPerSocket: 8, rssGrowthMiB: 200 },
  loginAttempts: 600,
  targetLoad: { clients: 4, durationMs: 10_000, intervalMs: 20 },
  changeLog: FULL_CHANGE_LOG,
};

export const FAULTS = {
  'kill-9': killNode,
  sigterm: sigtermNode,
  'postgres-restart': restartPostgres,
  'redis-outage': stopRedis,
  'postgres-hang': hangDatabase,
  'redis-hang': hangRedis,
  'slow-consumer': slowConsumer,
  'rolling-restart': rollingRestart,
  webhooks: webhooksUnderFaults,
} as const satisfies Record<string, (env: ChaosEnv, s: FaultSettings) => Promise<FaultRow>>;
export type FaultName = keyof typeof FAULTS;

/**
 * The row "catch-up replays every change": the change-log property
 * (chaos/change-log.ts) against two node processes over Redis on a fresh
 * database. `npm test` runs its quick form with in-process nodes
 * (test/change-log-property.test.ts), so the quick chaos test leaves it out.
 */
export async function runChangeLog(env: ChaosEnv, size: ChangeLogSize): Promise<FaultRow> {
  const databaseUrl = await env.freshDatabase('changes');
  const prefix = `chaos-changes-${Date.now().toString(36)}`;
  const nodes = await Promise.all(
    ['chaos-changes-a', 'chaos-changes-b'].map((name) =>
      env.startNode(name, { DATABASE_URL: databaseUrl, REDIS_URL: `redis://127.0.0.1:${env.redisPort}`, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'error', ...CHANGE_LOG_NODE_ENV }),
    ),
  );
  try {
    return await changeLogProperty([nodes[0]!.url, nodes[1]!.url], size);
  } finally {
    await Promise.all(nodes.map((node) => node.child.stop('SIGTERM', 10_000)));
  }
}

/** Runs every attack against one node process; adds a row for the node's own health afterwards. */
export async function runAttacks(env: ChaosEnv, settings: ChaosSettings, log: (line: string) => void = () => {}): Promise<AttackRow[]> {
  const databaseUrl = await env.freshDatabase('attack');
  const name = 'chaos-attack';
  const logFile = path.join(ARTIFACTS_DIR, `${name}.log`);
  const logStart = logSize(logFile); // the log is appended to run after run: read only this run's part
  const node = await env.startNode(name, {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${env.redisPort}`,
    REDIS_KEY_PREFIX: `${name}-${Date.now().toString(36)}`,
    LOGIN_FAILURE_LIMIT: '0',
    LOG_LEVEL: 'error',
  });
  const rows: AttackRow[] = [];
  try {
    const pid = node.child.process.pid!;
    const admin = await register(node.url, 'atkadmin'); // the first user of a fresh database is the admin
    const me = await call<{ user: { role: string } }>(node.url, 'GET', '/api/me', { token: admin.token });
    if (me.body.user.role !== 'admin') throw new Error('the first user of the fresh database is not an admin');
    const [member, victim] = await Promise.all([register(node.url, 'atkmember'), register(node.url, 'atkvictim')]);
    const room = await call<{ room: { id: string } }>(node.url, 'POST', '/api/rooms', { token: member.token, body: { name: 'attack room' } });
    const roomId = room.body.room.id;
    rows.push(
      ...(await blackBoxAttacks({ url: node.url, admin, member, victim, roomId, memory: processMemory(pid, node.url), jwtSecret: TEST_JWT_SECRET, loginAttempts: settings.loginAttempts, fuzz: settings.fuzz }, log)),
    );
    rows.push(...(await limitAttacks(env, databaseUrl)));
    rows.push(...(await abuseAttacks(env, databaseUrl)));
  } finally {
    const exited = node.child.exited();
    const logText = readLog(logFile, logStart);
    const crashes = logText.split('\n').filter((l) => /unhandled rejection|uncaught exception/i.test(l));
    rows.push({
      attack: 'the attacked node afterwards',
      runs: 1,
      violations: [...(exited ? [`the node exited (${exited.code ?? exited.signal})`] : []), ...crashes.slice(0, 5).map((l) => `log: ${l.slice(0, 200)}`)],
      facts: { alive: !exited, unhandledInLog: crashes.length },
    });
    await node.child.stop('SIGTERM', 10_000);
  }
  return rows;
}

/** The sign-in limits of a real deployment (the attack node above turns them off for the enumeration timing). */
const DEPLOYMENT_LIMITS = { LOGIN_FAILURE_LIMIT: 10, REGISTRATION_RATE_LIMIT: 10 };

/** The parallel login race and the registration flood, against a second node with the deployment's limits. */
async function limitAttacks(env: ChaosEnv, databaseUrl: string): Promise<AttackRow[]> {
  const name = 'chaos-limits';
  const node = await env.startNode(name, {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${env.redisPort}`,
    REDIS_KEY_PREFIX: `${name}-${Date.now().toString(36)}`,
    LOGIN_FAILURE_LIMIT: String(DEPLOYMENT_LIMITS.LOGIN_FAILURE_LIMIT),
    REGISTRATION_RATE_LIMIT: String(DEPLOYMENT_LIMITS.REGISTRATION_RATE_LIMIT),
    REGISTRATION_GLOBAL_RATE_LIMIT: '300',
    LOG_LEVEL: 'error',
  });
  try {
    const victim = await register(node.url, 'racevictim');
    const member = await register(node.url, 'floodmember');
    // The flood first: the race then uses up this address's login failures,
    // after which even the flood's right-password logins would be refused.
    // Two of the address's sign-ups went to the victim and the member.
    const flood = await registrationFloodAttack(node.url, member, DEPLOYMENT_LIMITS.REGISTRATION_RATE_LIMIT - 2, 200);
    return [flood, await loginRaceAttack(node.url, victim, `${victim.username}@chaos.test`, DEPLOYMENT_LIMITS.LOGIN_FAILURE_LIMIT, 60)];
  } finally {
    await node.child.stop('SIGTERM', 10_000);
  }
}

/** The room and history limits' defaults (server/config.ts), which the abuse node keeps. */
const DEFAULT_ROOM_LIMITS = { ROOM_CREATE_RATE_LIMIT: 10, HISTORY_RATE_LIMIT: 120 };

/**
 * What one member can create or request, against a third node with the
 * default room and history limits: the test nodes raise the room limit
 * (test/support/test-limits.ts), and an empty variable means "the default".
 * (The case-variant ids and the join/disconnect race need no particular
 * limits: they are black-box rows, see black-box.ts.)
 */
async function abuseAttacks(env: ChaosEnv, databaseUrl: string): Promise<AttackRow[]> {
  const name = 'chaos-abuse';
  const node = await env.startNode(name, {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${env.redisPort}`,
    REDIS_KEY_PREFIX: `${name}-${Date.now().toString(36)}`,
    ROOM_CREATE_RATE_LIMIT: '',
    ROOM_CREATE_RATE_WINDOW: '',
    HISTORY_RATE_LIMIT: '',
    HISTORY_RATE_WINDOW: '',
    LOG_LEVEL: 'error',
  });
  try {
    const [flooder, reader, bystander] = await Promise.all(['roomflood', 'histflood', 'bystander'].map((prefix) => register(node.url, prefix)));
    const flood = await roomFloodAttack(node.url, flooder!, DEFAULT_ROOM_LIMITS.ROOM_CREATE_RATE_LIMIT, 50);
    const [roomId] = flood.roomIds;
    if (!roomId) return [flood.row];
    return [flood.row, await historyFloodAttack(node.url, reader!, bystander!, roomId, DEFAULT_ROOM_LIMITS.HISTORY_RATE_LIMIT, 300)];
  } finally {
    await node.child.stop('SIGTERM', 10_000);
  }
}

function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readLog(file: string, fromByte: number): string {
  try {
    return readFileSync(file).subarray(fromByte).toString('utf8');
  } catch {
    return '';
  }
}

export interface ChaosReport {
  settings: ChaosSettings;
  startedAt: string;
  durationMs: number;
  /** The deployment a target-mode run ran against (absent for a local run). */
  target?: string;
  faults: FaultRow[];
  attacks: AttackRow[];
  /** Rows a target-mode run leaves to local runs, with why. */
  skipped: Array<{ row: string; reason: string }>;
}

export function faultTable(rows: FaultRow[]): string {
  const head = ['fault', 'acked', 'rejected', 'stored', 'delivered', 'lost', 'duplicated', 'unresolved', 'divergent', 'recovery ms', 'ok'];
  const lines = rows.map((r) => [r.fault, r.acked, r.rejected, r.stored, r.delivered, r.lost, r.duplicated, r.unresolved, r.divergent, r.recoveryMs, r.violations.length === 0 ? 'yes' : 'NO'].map(String));
  return markdownTable(head, lines);
}

export function attackTable(rows: AttackRow[]): string {
  return markdownTable(['attack', 'runs', 'violations', 'ok'], rows.map((r) => [r.attack, String(r.runs), String(r.violations.length), r.violations.length === 0 ? 'yes' : 'NO']));
}

function markdownTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function writeReport(report: ChaosReport): string {
  const dir = path.join(ARTIFACTS_DIR, 'chaos');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${report.target ? 'target-' : ''}${report.settings.name}-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  return file;
}
