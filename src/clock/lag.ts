// Tick lag kept for the benchmark and /healthz: a ring of the most recent values (ns), with percentiles.
const CAPACITY = 65536;

export class LagRecorder {
  private readonly ring = new Float64Array(CAPACITY);
  private count = 0;
  maxNs = 0;

  record(lagNs: number): void {
    this.ring[this.count % CAPACITY] = lagNs;
    this.count += 1;
    if (lagNs > this.maxNs) this.maxNs = lagNs;
  }

  /** Percentile (0–100) over the retained values, in ms. */
  percentileMs(p: number): number {
    const n = Math.min(this.count, CAPACITY);
    if (n === 0) return 0;
    const sorted = this.ring.slice(0, n).sort();
    const i = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
    return sorted[i] / 1e6;
  }

  reset(): void {
    this.count = 0;
    this.maxNs = 0;
  }
}
