// Latency histogram with fixed bins: 50 µs up to 100 ms, then 1 ms up to 60 s.
// Recording is one array increment, so the receiver stays cheap.
const FINE_BINS = 2_000;
const COARSE_BINS = 60_000;

export interface LatencySummary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export class LatencyHistogram {
  private readonly bins = new Uint32Array(FINE_BINS + COARSE_BINS + 1);
  count = 0;
  max = 0;

  record(ms: number): void {
    const value = ms < 0 ? 0 : ms;
    const bin = value < 100 ? Math.floor(value * 20) : Math.min(FINE_BINS + Math.floor(value - 100), FINE_BINS + COARSE_BINS);
    this.bins[bin]!++;
    this.count++;
    if (value > this.max) this.max = value;
  }

  /** The upper edge of the bin holding the p-th percentile (ms), or null when empty. */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let bin = 0; bin < this.bins.length; bin++) {
      seen += this.bins[bin]!;
      if (seen >= rank) return Math.min(this.max, bin < FINE_BINS ? (bin + 1) / 20 : bin - FINE_BINS + 101);
    }
    return this.max;
  }

  summary(): LatencySummary {
    const ms = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
    return { count: this.count, p50: ms(this.percentile(50)), p99: ms(this.percentile(99)), max: ms(this.count ? this.max : null) };
  }
}
