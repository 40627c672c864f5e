// (e) a storm of logins (each a bcrypt comparison) while the fan-out runs at
// half its sustained rate: do message deliveries keep their latency?
import { LatencyHistogram, type LatencySummary } from '../histogram.js';
import { now, type StepResult } from '../load.js';
import type { Sizes } from '../sizes.js';
import { login } from '../targets.js';
import type { FanoutSetup } from './fanout.js';

export interface StormResult {
  rate: number;
  withoutStorm: StepResult;
  withStorm: StepResult;
  logins: { attempted: number; ok: number; byStatus: Record<string, number>; latency: LatencySummary; perSec: number };
}

export async function runLoginStorm(setup: FanoutSetup, rate: number, durationMs: number, sizes: Sizes['storm'], baseline?: StepResult): Promise<StormResult> {
  const withoutStorm = baseline ?? (await setup.step(rate, durationMs));
  const url = setup.target.nodes[0]!.url;
  const latency = new LatencyHistogram();
  const byStatus = new Map<string, number>();
  const inFlight: Promise<void>[] = [];
  let attempted = 0;
  const started = now();
  const total = Math.round((sizes.loginsPerSec * durationMs) / 1000);
  const storm = (async () => {
    while (attempted < total && now() - started < durationMs * 2) {
      const due = Math.min(total, Math.floor(((now() - started) / 1000) * sizes.loginsPerSec) + 1);
      for (; attempted < due; attempted++) {
        const account = setup.accounts[attempted % setup.accounts.length]!;
        const sentAt = now();
        inFlight.push(
          login(url, account, sizes.maxInFlightWaitMs).then(
            (status) => {
              byStatus.set(String(status), (byStatus.get(String(status)) ?? 0) + 1);
              if (status === 200) latency.record(now() - sentAt);
            },
            () => void byStatus.set('timeout', (byStatus.get('timeout') ?? 0) + 1),
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const withStorm = await setup.step(rate, durationMs);
  await storm;
  await Promise.all(inFlight); // each bounded by its own timeout
  const elapsed = (now() - started) / 1000;
  const ok = byStatus.get('200') ?? 0;
  return {
    rate,
    withoutStorm,
    withStorm,
    logins: { attempted, ok, byStatus: Object.fromEntries(byStatus), latency: latency.summary(), perSec: Math.round((ok / elapsed) * 10) / 10 },
  };
}
