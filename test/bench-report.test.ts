// The benchmark's report is pure logic over the figures: the idle-socket
// goals judged at the first point, and the table of every point.
import { expect } from 'chai';
import { evaluateGoals, formatReport, type BenchReport } from '../bench/report.js';
import type { IdleResult } from '../bench/scenarios/idle.js';

const MB = 1_048_576;

function idle(sockets: number, connectsPerSec: number, rssBeforeMb: number, rssAfterGcMb: number): IdleResult {
  return {
    sockets,
    connectSeconds: Math.round((sockets / connectsPerSec) * 100) / 100,
    connectsPerSec,
    connectCpuPercent: 90,
    connectGcPercent: 12.5,
    connectGeneratorCpuPercent: 40,
    rssBeforeBytes: rssBeforeMb * MB,
    rssAfterBytes: (rssAfterGcMb + 20) * MB,
    rssAfterGcBytes: rssAfterGcMb * MB,
    heapUsedAfterGcBytes: (rssAfterGcMb / 2) * MB,
    rssPerSocketBytes: Math.round(((rssAfterGcMb - rssBeforeMb) * MB) / sockets),
  };
}

function report(points: NonNullable<BenchReport['scenarios']['idle']>): BenchReport {
  return {
    startedAt: '2026-11-30T00:00:00.000Z',
    finishedAt: '2026-11-30T00:01:00.000Z',
    quick: false,
    machine: { cpus: 2, model: 'test', loadAverageAtStart: [0, 0, 0], node: 'v20', pinned: true, database: 'postgresql' },
    scenarios: { idle: points },
    goals: [],
  };
}

describe('benchmark report: idle sockets', () => {
  it('when Roomcast connects at half the rate of bare, then c.connect is not met, judged at the first point', () => {
    const r = report([
      { sockets: 10_000, bare: idle(10_000, 3_000, 85, 185), roomcast: idle(10_000, 1_500, 280, 400) },
      { sockets: 19_800, capped: { asked: 20_000, reason: 'open-file limit 20000 (ulimit -n), less 200' }, bare: idle(19_800, 3_000, 85, 285), roomcast: idle(19_800, 3_000, 280, 520) },
    ]);

    const goals = evaluateGoals(r);

    const connect = goals.find((g) => g.id === 'c.connect')!;
    expect(connect).to.include({ ratio: 0.5, met: false });
    expect(connect.measured).to.contain('10000 sockets').and.contain('Roomcast 280 / 400 MB').and.contain('bare 85 / 185 MB');
    // 12.3 vs 10.2 KB per socket (120 vs 100 MB over 10,000), all connected in 6.67 s.
    expect(goals.find((g) => g.id === 'c.memory')).to.include({ ratio: 1.2, met: true });
  });

  it('when a point was capped by the open-file limit, then the table has a row per server and point and says so', () => {
    const r = report([{ sockets: 19_800, capped: { asked: 20_000, reason: 'open-file limit 20000 (ulimit -n), less 200' }, bare: idle(19_800, 3_000, 85, 285), roomcast: idle(19_800, 2_000, 280, 520) }]);
    r.goals = evaluateGoals(r);

    const lines = formatReport(r).split('\n');

    const rows = lines.filter((l) => /^(bare|roomcast)\s+19800\s/.test(l));
    expect(rows).to.have.length(2);
    expect(rows[1]).to.match(/\s2000\s/).and.match(/\s12\.5\s/);
    expect(lines).to.include('20000 sockets asked, 19800 run: open-file limit 20000 (ulimit -n), less 200');
  });
});
