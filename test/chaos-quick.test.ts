import { expect } from 'chai';
import type { Message } from '../client-sdk/src/index.js';
import { startChaosEnv, type ChaosEnv } from '../chaos/environment.js';
import { ackProblem } from '../chaos/fuzz-events.js';
import { check } from '../chaos/invariants.js';
import type { Load } from '../chaos/load.js';
import { missingTools, missingToolsMessage } from '../chaos/preflight.js';
import { FAULTS, QUICK, attackTable, faultTable, runAttacks, writeReport, type ChaosReport, type FaultName } from '../chaos/runner.js';
import type { FaultRow } from '../chaos/faults.js';
import { stopChildren } from './support/processes.js';
import { recordSkip } from './support/services.js';

describe('chaos suite, quick form (npm run chaos runs the full one)', () => {
  let env: ChaosEnv | null = null;
  const report: ChaosReport = { settings: QUICK, startedAt: new Date().toISOString(), durationMs: 0, faults: [], attacks: [], skipped: [] };

  before(async function () {
    this.timeout(120_000);
    const missing = await missingTools();
    if (missing.length) {
      recordSkip('chaos suite', missingToolsMessage(missing));
      this.skip();
    }
    env = await startChaosEnv();
  });
  after(async function () {
    this.timeout(60_000);
    await env?.destroy();
    await stopChildren();
    if (report.faults.length || report.attacks.length) {
      writeReport(report);
      console.log(`\n${faultTable(report.faults)}\n\n${attackTable(report.attacks)}\n`);
    }
  });

  const expectClean = (row: FaultRow) => {
    expect(row.violations, row.violations.join('\n')).to.deep.equal([]);
    expect(row.lost).to.equal(0);
    expect(row.duplicated).to.equal(0);
    expect(row.unresolved).to.equal(0);
    expect(row.divergent).to.equal(0);
    expect(row.acked).to.be.above(0);
  };

  const cases: Record<FaultName, string> = {
    'kill-9': 'when one of two nodes is killed with -9 under load, then every acked message is stored once and every client ends with the history',
    sigterm: 'when one of two nodes gets SIGTERM under load, then it exits 0 within 10 s and no acked message is lost',
    'postgres-restart': 'when PostgreSQL restarts under load, then sends answer unavailable meanwhile, the first ack comes within 5 s after, and nothing acked is lost',
    'redis-outage': 'when Redis stops for 10 s under load, then no node exits, same-node delivery goes on, and every client catches up with no gap',
    'postgres-hang': 'when PostgreSQL hangs behind a proxy, then sends answer unavailable within the ack timeout and /healthz stays fast',
    'redis-hang': 'when Redis hangs behind a proxy, then sends are still acked, /healthz stays fast, and every client catches up after',
    'slow-consumer': 'when one client stops reading while its room floods, then the node cuts it with its RSS bounded, the others keep their delivery p99, and it ends with every message',
    'rolling-restart': 'when two nodes behind a balancer are restarted one after the other under load, then every client is handed over before each close and nothing is lost or doubled',
    webhooks: 'when a node is killed with -9 and PostgreSQL restarts while an endpoint hears message.created, then every stored message reaches it, repeats only under the same webhook-id, in seq order',
  };
  for (const [name, title] of Object.entries(cases) as Array<[FaultName, string]>) {
    it(title, async function () {
      this.timeout(120_000);
      const row = await FAULTS[name](env!, QUICK.faults);
      report.faults.push(row);
      expectClean(row);
    });
  }

  it('when every client event is fuzzed and hostile frames, pollution keys, forged tokens, enumeration, a parallel login race, a registration flood, a room flood, a history flood, case-variant ids and a join/disconnect race are thrown at a node, then every answer follows the contract and the node stays up', async function () {
    this.timeout(300_000);
    const rows = await runAttacks(env!, QUICK);
    report.attacks.push(...rows);
    for (const row of rows) expect(row.violations, `${row.attack}:\n${row.violations.join('\n')}`).to.deep.equal([]);
    expect(rows.find((r) => r.attack.startsWith('fuzz: every /chat'))?.runs).to.equal(QUICK.fuzz.events);
    expect(rows.find((r) => r.attack.startsWith('fuzz: every REST'))?.runs).to.equal(QUICK.fuzz.rest);
  });
});

describe('chaos invariant checker (pure logic)', () => {
  const message = (seq: number, content: string): Message => ({
    id: String(seq),
    roomId: 'r',
    seq,
    change: seq,
    mentions: [],
    replyToSeq: null,
    replyCount: 0,
    lastReplyAt: null,
    userId: 'u',
    username: 'u',
    content,
    clientMsgId: `c${seq}`,
    createdAt: '2026-01-01T00:00:00.000Z',
    editedAt: null,
    deleted: false,
  });
  const fakeLoad = (acked: Message[], seen: Message[]): Load =>
    ({ clients: [{ name: 'c', acked: acked.map((m) => ({ message: m, at: 0 })), rejected: [], pending: new Map(), seen: seen.map((m) => ({ message: m, at: 0 })) }] }) as unknown as Load;

  it('when an acked message is missing from the history, then it counts as lost', () => {
    const history = [message(1, 'a')];
    const tally = check(fakeLoad([message(1, 'a'), message(2, 'b')], history), history);
    expect(tally.lost).to.equal(1);
  });

  it('when a client saw a message twice or the history repeats a content, then both count as duplicated', () => {
    const history = [message(1, 'a'), message(2, 'a')];
    const tally = check(fakeLoad([], [message(1, 'a'), message(1, 'a'), message(2, 'a')]), history);
    expect(tally.duplicated).to.equal(2);
    expect(tally.divergent).to.equal(1);
  });

  it('when an ack has an undocumented code or shape, then the fuzz flags it', () => {
    expect(ackProblem('room:join', { ok: true, room: {} })).to.equal(null);
    expect(ackProblem('room:join', { ok: false, error: { code: 'not_found', message: 'x' } })).to.equal(null);
    expect(ackProblem('room:join', { ok: false, error: { code: 'internal', message: 'x' } })).to.match(/not allowed/);
    expect(ackProblem('room:join', { ok: 'yes' })).to.match(/malformed/);
    expect(ackProblem('room:join', undefined)).to.match(/not an object/);
  });
});
