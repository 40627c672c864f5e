// Keeps the benchmark harness from rotting: a tiny run of the fan-out,
// login-storm, small-rooms (also with one webhook endpoint, `--webhook`) and
// idle-socket scenarios must produce well-formed figures and chart. No timing
// thresholds here: the figures are judged by `npm run bench`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { SERVERS } from '../bench/chart.js';
import { compileServers } from '../bench/compiled.js';
import { writeOutputs } from '../bench/output.js';
import { formatReport } from '../bench/report.js';
import { runBenchmark } from '../bench/run.js';
import type { StepResult } from '../bench/load.js';
import type { IdleResult } from '../bench/scenarios/idle.js';
import { environment } from './support/environment.js';
import { ARTIFACTS_DIR } from './support/services.js';

function expectWellFormedStep(step: StepResult): void {
  expect(step.rate).to.be.greaterThan(0);
  expect(step.sent).to.be.greaterThan(0);
  expect(step.deliveryRatio).to.be.within(0, 1);
  for (const value of [step.deliveriesPerSec, step.ackedPerSec, step.generatorCpuPercent]) expect(value).to.be.a('number').and.not.NaN;
  for (const summary of [step.ack, step.delivery]) {
    expect(summary.count).to.be.a('number');
    if (summary.count > 0) expect(summary.p50).to.be.a('number').and.at.most(summary.p99!).and.at.most(summary.max!);
  }
  expect(step.sustained).to.be.a('boolean');
  // The GC probe in the server answered: its pauses are a share of the server's CPU.
  expect(step.serverGcMs).to.be.a('number').and.at.least(0);
  expect(step.serverGcPercent).to.be.a('number').and.at.least(0);
}

function expectWellFormedIdle(result: IdleResult, sockets: number): void {
  expect(result.sockets).to.equal(sockets);
  expect(result.connectsPerSec).to.be.a('number').and.greaterThan(0);
  expect(result.connectGcPercent).to.be.a('number').and.at.least(0);
  // The node's own memory: before any socket and, with them all open, after a full GC in the server.
  for (const bytes of [result.rssBeforeBytes, result.rssAfterBytes, result.rssAfterGcBytes, result.heapUsedAfterGcBytes]) expect(bytes).to.be.a('number').and.greaterThan(0);
  expect(result.heapUsedAfterGcBytes!).to.be.lessThan(result.rssAfterGcBytes!);
  expect(result.rssPerSocketBytes).to.be.a('number');
}

/** Every element of the parsed SVG, depth first. */
function* elements(node: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(node)) for (const child of node) yield* elements(child);
  else if (node && typeof node === 'object') {
    yield node as Record<string, unknown>;
    for (const value of Object.values(node)) if (value && typeof value === 'object') yield* elements(value);
  }
}

describe('benchmark harness (npm run bench)', () => {
  it('when run with --quick --webhook, then every step, idle point, check and goal is well formed, the webhook run included, and the chart is written', async function () {
    this.timeout(180_000);
    const { services } = environment.get();

    // Compiled, as `npm run bench` runs them.
    const compiled = await compileServers();
    const report = await runBenchmark({
      quick: true,
      scenarios: new Set(['a', 'b', 'c', 'e']),
      databaseUrl: services.databaseUrl ?? 'memory',
      redisUrl: services.redisUrl ?? 'redis://127.0.0.1:6379',
      roomcastNodeFlags: [],
      entries: compiled,
      log: () => {},
      webhook: true,
    }).finally(() => compiled.remove());
    expect(report.machine.servers).to.equal('compiled');

    const fanout = report.scenarios.fanout!;
    for (const ramp of [fanout.bare!, fanout.roomcast]) {
      expect(ramp.steps).to.not.be.empty;
      ramp.steps.forEach(expectWellFormedStep);
    }
    expectWellFormedStep(fanout.halfRate!);
    expect(report.scenarios.loginStorm!.logins.attempted).to.be.greaterThan(0);
    const smallRooms = report.scenarios.smallRooms!;
    smallRooms.roomcast.ramp.steps.forEach(expectWellFormedStep);
    const check = smallRooms.roomcast.seqCheck!;
    expect(check.rooms).to.be.greaterThan(0);
    // Every acked message is stored exactly once with a gap-free seq: this is correctness, not timing.
    expect(check).to.include({ gapFree: true, roomsWithGaps: 0, messages: check.ackedTotal });
    // --webhook: (b) again with one endpoint on message.created; every stored message reaches the receiver (correctness, not timing).
    const hooked = smallRooms.withWebhook!;
    if (services.databaseUrl) {
      if (!('webhook' in hooked)) throw new Error(`the webhook run did not run: ${hooked.reason}`);
      hooked.ramp.steps.forEach(expectWellFormedStep);
      expect(hooked.webhook.events).to.deep.equal(['message.created']);
      expect(hooked.webhook.acked).to.be.greaterThan(0);
      expect(hooked.webhook).to.include({ allDelivered: true });
      expect(hooked.webhook.delivered).to.be.at.least(hooked.webhook.acked);
      expect(hooked.webhook.requests).to.be.at.least(hooked.webhook.delivered);
      expect(hooked.seqCheck).to.include({ gapFree: true, roomsWithGaps: 0 });
    } else expect(hooked).to.include({ available: false });
    smallRooms.bare.ramp.steps.forEach(expectWellFormedStep);
    // Two idle points (as 10,000 and 20,000 in the default run), each on both servers.
    const idle = report.scenarios.idle!;
    expect(idle.map((p) => p.sockets)).to.deep.equal([50, 100]);
    for (const point of idle) for (const server of SERVERS) expectWellFormedIdle(point[server], point.sockets);
    expect(report.goals.map((g) => g.id)).to.include.members(['a.cpu', 'a.peak', 'a.latency', 'b.stored', 'c.memory', 'c.connect', 'b.webhook', 'e.storm']);
    for (const goal of report.goals) expect(goal.met === null || typeof goal.met === 'boolean').to.equal(true);
    const text = formatReport(report);
    expect(text).to.contain('Goals (issues 7 and 18)').and.contain('GC%').and.contain('connects/s').and.contain('RSS after GC MB').and.contain('rc+webhook');

    // The chart: written next to the JSON, well-formed XML, a point for every step of (a) and (b) on both servers.
    const files = await writeOutputs(report, path.join(ARTIFACTS_DIR, 'bench-smoke'));
    expect(files.svg).to.equal(files.json.replace(/\.json$/, '.svg'));
    const svg = readFileSync(files.svg!, 'utf8');
    expect(XMLValidator.validate(svg)).to.equal(true);
    const labels = [...elements(new XMLParser({ ignoreAttributes: false }).parse(svg))]
      .filter((e) => e['@_aria-roledescription'] === 'point')
      .map((e) => String(e['@_aria-label']));
    const pointsOf = (y: string, server: string) => labels.filter((l) => l.includes(`; ${y}: `) && l.endsWith(`server: ${server}`)).length;
    const withDeliveries = (steps: StepResult[]) => steps.filter((s) => s.delivery.p99 !== null).length;
    expect(pointsOf('delivery p99 (ms)', 'bare')).to.equal(withDeliveries(fanout.bare!.steps)).and.greaterThan(0);
    expect(pointsOf('delivery p99 (ms)', 'roomcast')).to.equal(withDeliveries(fanout.roomcast.steps)).and.greaterThan(0);
    expect(pointsOf('acked msgs/s', 'bare')).to.equal(smallRooms.bare.ramp.steps.length);
    expect(pointsOf('acked msgs/s', 'roomcast')).to.equal(smallRooms.roomcast.ramp.steps.length);
    // And the GC share of every step of (a) and (b), both servers.
    const steps = [...fanout.bare!.steps, ...fanout.roomcast.steps, ...smallRooms.bare.ramp.steps, ...smallRooms.roomcast.ramp.steps];
    expect(pointsOf('GC % of server CPU', 'bare') + pointsOf('GC % of server CPU', 'roomcast')).to.equal(steps.length);
  });
});
