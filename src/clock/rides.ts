// Periodic work on the sampler's thread (the store's background flush, partial summaries) that rides
// the tick's wake-up instead of waking the thread on timers of its own. A wake-up of Node's event loop
// costs ~150 µs of CPU on a small KVM guest (docs/performance.md, "The sampler's own cost"), and two
// 1-s timers started at another phase than the 100-ms tick woke the thread 12 times a second, not 10.
// While the ticker runs, each job runs after the first tick at or past its period; while it is
// stopped (before the start, during shutdown, or with no sampler at all), on a timer of its own, so
// that flushes and retries never depend on the sampler running.

/** Runs fn about every everyMs; returns what cancels it. The store's and the run manager's option. */
export type Every = (everyMs: number, fn: () => void) => () => void;

/** fn on a timer of its own, which never keeps the process alive (`profile`, tests, the CLI's stores). */
export const ownTimer: Every = (everyMs, fn) => {
  const timer = setInterval(fn, everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

interface Job {
  everyMs: number;
  fn: () => void;
  /** Earliest time of its next run on the ticks, ms on performance.now()'s clock. */
  dueMs: number;
  /** Cancels its own timer; null while it rides the ticks. */
  cancelTimer: (() => void) | null;
}

export class TickRides {
  private readonly jobs = new Set<Job>();
  private riding = false;

  constructor(
    /** Where a job's exception goes when it ran on the ticks (default: thrown from the tick, as from its own timer). */
    private readonly onError: (err: unknown) => void = (err) => {
      throw err;
    },
  ) {}

  /** Schedules fn about every everyMs (after a tick while the ticker runs, on its own timer otherwise). */
  readonly every: Every = (everyMs, fn) => {
    const job: Job = { everyMs, fn, dueMs: performance.now() + everyMs, cancelTimer: null };
    this.jobs.add(job);
    if (!this.riding) this.arm(job);
    return () => {
      this.disarm(job);
      this.jobs.delete(job);
    };
  };

  /** Whether the jobs ride the ticks now. */
  get onTicks(): boolean {
    return this.riding;
  }

  /** The ticker started (true: the jobs leave their timers) or stopped (false: they go back to them). */
  ride(on: boolean): void {
    if (on === this.riding) return;
    this.riding = on;
    for (const job of this.jobs) {
      if (on) {
        this.disarm(job);
        job.dueMs = performance.now() + job.everyMs;
      } else this.arm(job);
    }
  }

  /**
   * After a tick's samples are taken: runs every job whose period has passed. The next period counts
   * from now (a late tick delays a job, it never runs twice to catch up). A job that throws does not
   * keep the others from running; its exception goes to onError once they have.
   */
  afterTick(): void {
    if (!this.riding || this.jobs.size === 0) return;
    const now = performance.now();
    let failed: { err: unknown } | null = null;
    for (const job of this.jobs) {
      if (now < job.dueMs) continue;
      job.dueMs = now + job.everyMs;
      try {
        job.fn();
      } catch (err) {
        failed ??= { err };
      }
    }
    if (failed) this.onError(failed.err);
  }

  private arm(job: Job): void {
    job.cancelTimer ??= ownTimer(job.everyMs, job.fn);
  }

  private disarm(job: Job): void {
    job.cancelTimer?.();
    job.cancelTimer = null;
  }
}
