// Keeps the benchmark harness from rotting: a tiny run of the fan-out,
// login-storm and small-rooms scenarios (the last also with one webhook
// endpoint, `--webhook`) must produce well-formed figures.
// No timing thresholds here: the figures are judged by `npm run bench`.
import { expect } from 'chai';
import { formatReport } from '../bench/report.js';
import { runBenchmark } from '../bench/run.js';
import type { StepResult } from '../bench/load.js';
import { environment } from './support/environment.js';

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
}

describe('benchmark harness (npm run bench)', () => {
  it('when run with --quick --webhook on three scenarios, then every step, check and goal is well formed, the webhook run included', async function () {
    this.timeout(180_000);
    const { services } = environment.get();

    const report = await runBenchmark({
      quick: true,
      scenarios: new Set(['a', 'b', 'e']),
      databaseUrl: services.databaseUrl ?? 'memory',
      redisUrl: services.redisUrl ?? 'redis://127.0.0.1:6379',
      roomcastNodeFlags: [],
      log: () => {},
      webhook: true,
    });

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
    expect(report.goals.map((g) => g.id)).to.include.members(['a.cpu', 'a.peak', 'a.latency', 'b.stored', 'b.webhook', 'e.storm']);
    for (const goal of report.goals) expect(goal.met === null || typeof goal.met === 'boolean').to.equal(true);
    expect(formatReport(report)).to.contain('Goals (issue 7)').and.contain('rc+webhook');
  });
});
