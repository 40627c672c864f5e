// The attacks that need nothing but the node's HTTP and Socket.IO surface:
// run against a node process the suite started, and as they are against any
// deployment (`npm run chaos -- --target URL`).
import type { AttackRow } from './attacks.js';
import { enumerationAttack, pollutionAttacks, rawFrameAttacks, tokenAttacks } from './attacks.js';
import { caseVariantAttack, joinDisconnectRaceAttack } from './abuse-attacks.js';
import { fuzzEvents } from './fuzz-events.js';
import { fuzzRest } from './fuzz-rest.js';
import type { MemoryProbe } from './memory.js';
import { transportAttacks } from './transport-attacks.js';
import { call, type Registered } from './wire.js';

export interface FuzzCounts {
  /** Fuzzed socket payloads (every event of both namespaces, and unknown ones). */
  events: number;
  /** Fuzzed REST requests (every route of the OpenAPI document). */
  rest: number;
  /** REST requests in flight at once. */
  restConcurrency: number;
  /** Sockets per role and acks in flight per socket for the event fuzz. */
  socketsPerRole: number;
  inFlightPerSocket: number;
  /** Largest RSS growth the event fuzz allows, MiB. */
  rssGrowthMiB: number;
}

export interface BlackBoxTarget {
  url: string;
  admin: Registered;
  member: Registered;
  /** The user the enumeration, the admin events and the user routes aim at. */
  victim: Registered;
  /** A room of the member's. */
  roomId: string;
  memory: MemoryProbe;
  /** The node's HS256 secret, when known: the forgeries "right key, wrong claims" need it (a random one otherwise). */
  jwtSecret: string;
  loginAttempts: number;
  fuzz: FuzzCounts;
}

/**
 * The black-box rows, in an order a deployment's limits allow: the login
 * timing first (before anything spends the address's login failures), the
 * presence checks before the fuzz may ban the victim, the fuzz last.
 */
export async function blackBoxAttacks(t: BlackBoxTarget, log: (line: string) => void = () => {}): Promise<AttackRow[]> {
  const rows: AttackRow[] = [];
  const step = async (name: string, run: () => Promise<AttackRow | AttackRow[]>) => {
    log(`  ${name} …`);
    const out = await run();
    rows.push(...(Array.isArray(out) ? out : [out]));
  };
  await step('login enumeration', () => enumerationAttack(t.url, t.victim, t.loginAttempts));
  await step('case-variant ids', () => caseVariantAttack(t.url, t.member, t.victim, t.roomId));
  await step('join/disconnect race', async () => {
    const rooms = [t.roomId];
    for (let i = 0; i < 3; i++) {
      const room = await call<{ room: { id: string } }>(t.url, 'POST', '/api/rooms', { token: t.member.token, body: { name: `race ${i}` } });
      if (room.status === 201) rooms.push(room.body.room.id);
    }
    return joinDisconnectRaceAttack(t.url, t.victim, t.member, rooms);
  });
  // These register users: before the REST fuzz spends the address's sign-ups on its register route.
  await step('prototype pollution', () => pollutionAttacks(t.url, t.admin, t.roomId));
  await step('forged tokens', () => tokenAttacks(t.url, t.member, t.admin, t.jwtSecret));
  await step('transport', () => transportAttacks(t.url, t.member, t.admin));
  await step('raw frames', () => rawFrameAttacks(t.url, t.member, t.roomId));
  await step(`event fuzz (${t.fuzz.events})`, () => fuzzEvents(t.url, t.memory, t, { runs: t.fuzz.events, socketsPerRole: t.fuzz.socketsPerRole, inFlightPerSocket: t.fuzz.inFlightPerSocket, rssGrowthMiB: t.fuzz.rssGrowthMiB }));
  await step(`REST fuzz (${t.fuzz.rest})`, () => fuzzRest(t.url, t, t.fuzz.rest, t.fuzz.restConcurrency));
  return rows;
}

/** /healthz and /readyz after everything: the deployment is alive and ready. */
export async function aliveRow(url: string, extra: { violations: string[]; facts: AttackRow['facts'] } = { violations: [], facts: {} }): Promise<AttackRow> {
  const violations = [...extra.violations];
  const health = await call(url, 'GET', '/healthz').catch(() => null);
  const ready = await call(url, 'GET', '/readyz').catch(() => null);
  if (health?.status !== 200) violations.push(`/healthz answered ${health?.status ?? 'nothing'}`);
  if (ready?.status !== 200) violations.push(`/readyz answered ${ready?.status ?? 'nothing'}`);
  return { attack: 'the attacked node afterwards', runs: 2, violations, facts: { healthz: health?.status ?? 0, readyz: ready?.status ?? 0, ...extra.facts } };
}
