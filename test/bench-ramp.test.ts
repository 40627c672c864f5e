// The benchmark's ramp is pure logic over step results: which rates it
// tries, and which one it reports as sustained.
import { expect } from 'chai';
import { ramp, type RampOptions, type StepResult } from '../bench/load.js';

const options: RampOptions = { startRate: 100, factor: 2, maxSteps: 5, refineSteps: 2, maxRate: 10_000 };

/** A server that sustains every rate up to `limit`, and fails the first attempt at the rates in `flaky`. */
function server(limit: number, flaky: number[] = []) {
  const tried: number[] = [];
  const run = async (rate: number): Promise<StepResult> => {
    tried.push(rate);
    const firstTry = tried.filter((r) => r === rate).length === 1;
    const sustained = rate <= limit && !(firstTry && flaky.includes(rate));
    return { rate, deliveriesPerSec: rate * 10, sustained } as StepResult;
  };
  return { run, tried };
}

describe('benchmark ramp', () => {
  it('when a rate fails once and passes on its second attempt, then it counts as sustained and the ramp goes on', async () => {
    const { run, tried } = server(400, [200]);

    const result = await ramp(options, run, 0);

    // 800 fails twice; bisection: 566 and then 476 fail twice each.
    expect(tried).to.deep.equal([100, 200, 200, 400, 800, 800, 566, 566, 476, 476]);
    expect(result.sustainedRate).to.equal(400);
    expect(result.steps.filter((s) => s.rate === 200).map((s) => s.sustained)).to.deep.equal([false, true]);
  });

  it('when a rate fails twice, then the ramp stops there and bisects between the last pass and it', async () => {
    const { run, tried } = server(300);

    const result = await ramp(options, run, 0);

    // 100, 200 pass; 400 fails twice; bisection: 283 passes, then 336 fails twice.
    expect(tried).to.deep.equal([100, 200, 400, 400, 283, 336, 336]);
    expect(result.sustainedRate).to.equal(283);
    expect(result.sustainedDeliveriesPerSec).to.equal(2830);
  });

  it('when even the first rate fails twice, then it steps down until a rate passes', async () => {
    const { run, tried } = server(60);

    const result = await ramp(options, run, 0);

    // 100 fails twice, 50 passes; bisection: 71 fails twice, 60 passes.
    expect(tried).to.deep.equal([100, 100, 50, 71, 71, 60]);
    expect(result.sustainedRate).to.equal(60);
  });
});
