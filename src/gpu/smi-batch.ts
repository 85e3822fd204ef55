// Grouping of the compute-apps stream into snapshots. `nvidia-smi --query-compute-apps … -lms N` prints
// one line per process per iteration with no delimiter, and prints nothing at all when no process runs.
// Choice: an iteration's lines arrive together (one query, one flush), and iterations are at least
// intervalMs apart (nvidia-smi sleeps between them). So a line arriving more than gapMs after the
// previous one starts a new batch; a batch is complete once gapMs has passed without a line. Silence
// longer than emptyAfterMs means iterations printed nothing: no processes. Pure: time is passed in.

export interface BatcherOptions {
  /** The -lms interval nvidia-smi loops at. */
  intervalMs: number;
  /** Lines closer than this belong to one iteration (default intervalMs/2, clamped to 2..50 ms). */
  gapMs?: number;
  /** Floor for the silence that means "no processes" (default 500 ms; also ≥ 4 intervals, ≥ 3 observed periods). */
  minEmptyAfterMs?: number;
}

export class LineBatcher<T> {
  private readonly gapMs: number;
  private readonly intervalMs: number;
  private readonly minEmptyAfterMs: number;
  private pending: T[] = [];
  private committed: T[] = [];
  private lastLineMs = Number.NEGATIVE_INFINITY;
  private batchStartMs = Number.NEGATIVE_INFINITY;
  /** Smoothed time between batch starts: how long this nvidia-smi really takes per iteration. */
  private periodMs: number | null = null;

  constructor(opts: BatcherOptions) {
    this.intervalMs = opts.intervalMs;
    this.gapMs = opts.gapMs ?? Math.min(50, Math.max(2, opts.intervalMs / 2));
    this.minEmptyAfterMs = opts.minEmptyAfterMs ?? 500;
  }

  /** Silence after which the process list is taken to be empty. */
  emptyAfterMs(): number {
    return Math.max(this.minEmptyAfterMs, 4 * this.intervalMs, 3 * (this.periodMs ?? 0));
  }

  push(row: T, nowMs: number): void {
    const sinceLastMs = nowMs - this.lastLineMs;
    if (sinceLastMs > this.gapMs) {
      if (this.pending.length > 0) this.committed = this.pending;
      // A silence this long held at least one empty iteration.
      if (sinceLastMs > this.emptyAfterMs()) this.committed = [];
      else if (Number.isFinite(this.batchStartMs)) {
        const period = nowMs - this.batchStartMs;
        this.periodMs = this.periodMs === null ? period : 0.8 * this.periodMs + 0.2 * period;
      }
      this.pending = [];
      this.batchStartMs = nowMs;
    }
    this.pending.push(row);
    this.lastLineMs = nowMs;
  }

  /** Forgets everything (a restarted nvidia-smi must not inherit its predecessor's lines). */
  reset(): void {
    this.pending = [];
    this.committed = [];
    this.lastLineMs = Number.NEGATIVE_INFINITY;
    this.batchStartMs = Number.NEGATIVE_INFINITY;
  }

  /** The latest complete iteration as of nowMs. */
  current(nowMs: number): T[] {
    const sinceLastMs = nowMs - this.lastLineMs;
    if (sinceLastMs > this.gapMs && this.pending.length > 0) {
      this.committed = this.pending;
      this.pending = [];
    }
    if (sinceLastMs > this.emptyAfterMs()) this.committed = [];
    return this.committed;
  }
}
