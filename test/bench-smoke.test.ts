// Keeps the benchmark harness from rotting: a tiny run of the fan-out,
// login-storm and small-rooms scenarios must produce well-formed figures.
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
  it('when run with --quick on two scenarios, then every step, check and goal is well formed', async function () {
    this.timeout(120_000);
    const { services } = environment.get();

    const report = await runBenchmark({
      quick: true,
      scenarios: new Set(['a', 'b', 'e']),
      databaseUrl: services.databaseUrl ?? 'memory',
      redisUrl: services.redisUrl ?? 'redis://127.0.0.1:6379',
      roomcastNodeFlags: [],
      log: () => {},
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
    expect(report.goals.map((g) => g.id)).to.include.members(['a.cpu', 'a.peak', 'a.latency', 'b.stored', 'e.storm']);
    for (const goal of report.goals) expect(goal.met === null || typeof goal.met === 'boolean').to.equal(true);
    expect(formatReport(report)).to.contain('Goals (issue 7)');
  });
});
