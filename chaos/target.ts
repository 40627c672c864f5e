// Target mode: the black-box part of the chaos suite against a running node
// or cluster (`npm run chaos -- --target URL`), over HTTP(S) and WebSocket
// only — no database, no Redis, no process of the deployment is touched.
// It signs in with admin credentials, registers the few users it needs under
// a tag of its own, runs traffic and checks the invariants from outside,
// runs the fuzz and the attacks, and tidies up what the API lets it.
import { randomUUID } from 'node:crypto';
import type { AttackRow } from './attacks.js';
import { aliveRow, blackBoxAttacks } from './black-box.js';
import { settle, type FaultRow } from './faults.js';
import { Load } from './load.js';
import { metricsMemory } from './memory.js';
import { FAULTS, type ChaosSettings } from './runner.js';
import { call, made, register, useRunTag, type Registered } from './wire.js';

export interface TargetOptions {
  url: string;
  adminUser: string;
  adminPassword: string;
  settings: ChaosSettings;
  /** The deployment's JWT_SECRET (HS256), for the forgeries that need the right key; optional. */
  jwtSecret?: string;
  /** METRICS_TOKEN, so the RSS can be read from /metrics; optional. */
  metricsToken?: string;
  /** Login attempts of the enumeration timing (it stops at the deployment's first 429). */
  loginAttempts?: number;
  log?: (line: string) => void;
  /** Runs after the traffic stops and before the history is checked (tests plant a violation here). */
  beforeCheck?: (roomId: string) => Promise<void>;
}

export interface SkippedRow {
  row: string;
  reason: string;
}

export interface TargetReport {
  target: string;
  tag: string;
  faults: FaultRow[];
  attacks: AttackRow[];
  skipped: SkippedRow[];
}

const LOCAL_ONLY_ATTACKS: SkippedRow[] = [
  { row: 'parallel login race', reason: 'judged against known LOGIN_FAILURE_LIMIT settings, and locks the address out of logins' },
  { row: 'registration flood', reason: 'judged against known REGISTRATION_RATE_LIMIT settings, and spends the address\'s sign-ups' },
  { row: 'room flood', reason: 'judged against the default ROOM_CREATE_RATE_LIMIT' },
  { row: 'history flood', reason: 'judged against the default HISTORY_RATE_LIMIT' },
];

/** What target mode does not run: every row that kills, stops or sits between processes, and the rows that need known limits. */
export function skippedInTargetMode(): SkippedRow[] {
  return [...Object.keys(FAULTS).map((row) => ({ row, reason: 'kills, stops or proxies a process or dependency: local only' })), ...LOCAL_ONLY_ATTACKS];
}

/** Signs in with the admin credentials; throws unless they are an admin's. */
export async function signInAdmin(url: string, login: string, password: string): Promise<Registered> {
  const res = await call<{ accessToken?: string; user?: { id: string; username: string; role: string } }>(url, 'POST', '/api/auth/login', { body: { login, password } });
  if (res.status !== 200 || !res.body.accessToken || !res.body.user) throw new Error(`admin login answered ${res.status}: ${res.text.slice(0, 200)}`);
  if (res.body.user.role !== 'admin') throw new Error(`${login} is not an admin (role ${res.body.user.role})`);
  return { token: res.body.accessToken, userId: res.body.user.id, username: res.body.user.username, password };
}

/**
 * SDK clients send to one room for a while (no fault); then every acked
 * message must be in the history exactly once, in seq order, with no gap,
 * and every client must have seen exactly the history.
 */
export async function trafficRow(url: string, reader: Registered, settings: ChaosSettings['targetLoad'], beforeCheck?: (roomId: string) => Promise<void>): Promise<FaultRow> {
  const load = await Load.start({ urls: Array.from({ length: settings.clients }, () => [url]), intervalMs: settings.intervalMs }, `${made.tag}ld`);
  made.roomIds.add(load.roomId);
  try {
    load.run();
    await new Promise((r) => setTimeout(r, settings.durationMs));
    await load.stop(60_000);
    await beforeCheck?.(load.roomId);
    const tally = await settle(load, url, reader.token);
    const errors = load.clients.flatMap((c) => c.errors);
    // Rejections are sends the app was told about (a deployment's MESSAGE_RATE_LIMIT answers rate_limited): not a loss.
    const rejectedCodes: Record<string, number> = {};
    for (const r of load.clients.flatMap((c) => c.rejected)) rejectedCodes[r.code] = (rejectedCodes[r.code] ?? 0) + 1;
    return {
      fault: 'traffic, no fault (invariants from outside)',
      ...tally,
      recoveryMs: 0,
      facts: { clients: settings.clients, seconds: settings.durationMs / 1000, sdkErrors: errors.length, rejectedCodes: JSON.stringify(rejectedCodes) },
    };
  } finally {
    load.close();
  }
}

/** Archives the rooms the run made and bans the users it registered (Roomcast deletes neither). */
export async function tidy(url: string, admin: Registered): Promise<{ roomsArchived: number; usersBanned: number; notTidied: number }> {
  let roomsArchived = 0;
  let usersBanned = 0;
  let notTidied = 0;
  // Admin actions are rate-limited too: wait out one 429 per call.
  const patch = async (path: string, body: object): Promise<boolean> => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await call(url, 'PATCH', path, { token: admin.token, body }).catch(() => null);
      if (res?.status === 200) return true;
      if (res?.status !== 429) return false;
      await new Promise((r) => setTimeout(r, Math.min(60, Number(res.headers.get('retry-after')) || 5) * 1000));
    }
    return false;
  };
  for (const roomId of made.roomIds) (await patch(`/api/rooms/${roomId}`, { archived: true })) ? roomsArchived++ : notTidied++;
  if (made.tag) {
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const query: string = `/api/admin/users?q=${encodeURIComponent(made.tag)}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await call<{ users: Array<{ id: string; username: string; banned?: boolean }>; nextCursor: string | null }>(url, 'GET', query, { token: admin.token });
      if (res.status !== 200) break;
      for (const user of res.body.users) {
        if (!user.username.startsWith(made.tag) || user.id === admin.userId || user.banned) continue;
        (await patch(`/api/admin/users/${user.id}`, { banned: true })) ? usersBanned++ : notTidied++;
      }
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
  }
  return { roomsArchived, usersBanned, notTidied };
}

export async function runTarget(o: TargetOptions): Promise<TargetReport> {
  const log = o.log ?? (() => {});
  const url = o.url.replace(/\/+$/, '');
  const tag = `cx${randomUUID().replace(/-/g, '').slice(0, 5)}_`;
  useRunTag(tag);
  made.roomIds.clear();
  const health = await call(url, 'GET', '/healthz').catch((err: Error) => ({ status: 0, text: err.message }));
  if (health.status !== 200) throw new Error(`${url}/healthz answered ${health.status || health.text}`);
  const admin = await signInAdmin(url, o.adminUser, o.adminPassword);
  const report: TargetReport = { target: url, tag, faults: [], attacks: [], skipped: skippedInTargetMode() };
  try {
    const [member, victim] = [await register(url, 'mem'), await register(url, 'vic')];
    const room = await call<{ room: { id: string } }>(url, 'POST', '/api/rooms', { token: member.token, body: { name: `chaos ${tag}` } });
    if (room.status !== 201) throw new Error(`creating a room answered ${room.status}: ${room.text.slice(0, 200)}`);
    log('traffic and invariants …');
    report.faults.push(await trafficRow(url, admin, o.settings.targetLoad, o.beforeCheck));
    log('attacks …');
    report.attacks.push(
      ...(await blackBoxAttacks(
        {
          url,
          admin,
          member,
          victim,
          roomId: room.body.room.id,
          memory: metricsMemory(url, o.metricsToken),
          jwtSecret: o.jwtSecret ?? `not-the-deployment-key-${randomUUID()}`,
          loginAttempts: o.loginAttempts ?? Math.min(o.settings.loginAttempts, 20),
          fuzz: o.settings.fuzz,
        },
        log,
      )),
    );
  } finally {
    log('tidying …');
    const tidied = await tidy(url, admin).catch((err: Error) => ({ error: err.message }));
    report.attacks.push(await aliveRow(url, { violations: [], facts: { tag, ...tidied } }));
  }
  return report;
}
