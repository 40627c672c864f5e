// The benchmark's chart is pure logic over a report: which steps become
// points, which are on the line, and when there is nothing to draw.
import { expect } from 'chai';
import { chartSpec, rampPoints } from '../bench/chart.js';
import type { RampResult, StepResult } from '../bench/load.js';
import type { BenchReport } from '../bench/report.js';

const step = (rate: number, p99: number | null, sustained: boolean): StepResult =>
  ({ rate, sent: rate, expectedDeliveries: rate * 10, delivery: { count: p99 === null ? 0 : rate * 10, p50: p99, p99, max: p99 }, ackedPerSec: rate, sustained }) as StepResult;
const ramp = (steps: StepResult[]): RampResult => ({ steps, sustainedRate: 0, sustainedDeliveriesPerSec: 0 });

describe('benchmark chart', () => {
  it('when a rate was tried twice, then both attempts are points and only the last one is on the line', () => {
    const points = rampPoints('bare', ramp([step(10, 2, true), step(20, 70, false), step(20, 4, true)]), (s) => s.rate * 10, (s) => s.delivery.p99);

    expect(points).to.deep.equal([
      { server: 'bare', x: 100, y: 2, passed: true, decisive: true },
      { server: 'bare', x: 200, y: 70, passed: false, decisive: false },
      { server: 'bare', x: 200, y: 4, passed: true, decisive: true },
    ]);
  });

  it('when a step measured no delivery, then it is left out rather than drawn at zero', () => {
    const points = rampPoints('roomcast', ramp([step(10, null, false), step(15, 3, true)]), (s) => s.rate, (s) => s.delivery.p99);

    expect(points.map((p) => p.x)).to.deep.equal([15]);
  });

  it('when the run had neither (a) nor (b), then there is no chart', () => {
    const report = { startedAt: '2026-11-30T00:00:00.000Z', quick: true, scenarios: { idle: [] } } as unknown as BenchReport;

    expect(chartSpec(report)).to.equal(null);
  });

  it('when the run had (a) and (b) from before the GC probe, then the chart has one panel each', () => {
    const both = ramp([step(10, 2, true)]);
    const report = {
      startedAt: '2026-11-30T00:00:00.000Z',
      quick: true,
      scenarios: { fanout: { bare: both, roomcast: both }, smallRooms: { bare: { ramp: both }, roomcast: { ramp: both } } },
    } as unknown as BenchReport;

    const spec = chartSpec(report) as unknown as { hconcat: { title: { text: string } }[] };

    expect(spec.hconcat.map((p) => p.title.text.slice(0, 3))).to.deep.equal(['(a)', '(b)']);
  });

  it('when the steps carry the GC share, then a row of GC panels sits under (a) and (b)', () => {
    const both = ramp([{ ...step(10, 2, true), serverGcPercent: 12.5 }]);
    const report = {
      startedAt: '2026-11-30T00:00:00.000Z',
      quick: true,
      scenarios: { fanout: { bare: both, roomcast: both }, smallRooms: { bare: { ramp: both }, roomcast: { ramp: both } } },
    } as unknown as BenchReport;

    const spec = chartSpec(report) as unknown as { vconcat: { hconcat: { title: { text: string } }[] }[] };

    expect(spec.vconcat.map((row) => row.hconcat.map((p) => p.title.text))).to.deep.equal([
      ['(a) fan-out: delivery p99 vs offered deliveries/s', '(b) small rooms: acked msgs/s vs offered msgs/s'],
      ["(a): GC share of the server's CPU", "(b): GC share of the server's CPU"],
    ]);
  });
});
