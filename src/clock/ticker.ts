// The sampling clock. Tick k is due at start + k × interval on the monotonic clock — never
// "work, then sleep", which drifts by the time the work takes (the official loop's flaw).
// A late tick is recorded as lag; ticks that could not happen at all are counted as missed, never hidden.
import { LagRecorder } from './lag.js';
import type { TickRides } from './rides.js';

/** What the ticker sleeps on for a sub-millisecond wait (never notified: the timeout ends each wait). */
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

export function monoNowNs(): number {
  return Number(process.hrtime.bigint());
}

export interface Tick {
  /** Index of the due time this tick serves (start + index × interval). */
  index: number;
  dueMonoNs: number;
  monoNs: number;
  wallMs: number;
  lagNs: number;
  /** Due times skipped since the previous tick because the loop was late by more than an interval. */
  missed: number;
}

export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private startMonoNs = 0;
  private nextIndex = 0;
  private readonly intervalNs: number;
  ticks = 0;
  missed = 0;
  readonly lag = new LagRecorder();

  constructor(
    readonly intervalMs: number,
    private readonly onTick: (tick: Tick) => void,
    /** Periodic work that runs after the ticks while the ticker runs (rides.ts). */
    private readonly rides: TickRides | null = null,
  ) {
    this.intervalNs = intervalMs * 1e6;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    this.startMonoNs = monoNowNs();
    this.nextIndex = 0;
    this.schedule();
    this.rides?.ride(true);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.rides?.ride(false);
  }

  private schedule(): void {
    const dueNs = this.startMonoNs + this.nextIndex * this.intervalNs;
    const delayMs = Math.max(0, (dueNs - monoNowNs()) / 1e6);
    // Timers have millisecond resolution and fire at or after their delay: round up, so a tick is
    // never served early and lag stays within about a millisecond plus scheduling noise.
    this.timer = setTimeout(() => this.fire(), Math.ceil(delayMs));
  }

  private fire(): void {
    let now = monoNowNs();
    const dueNs = this.startMonoNs + this.nextIndex * this.intervalNs;
    if (now < dueNs) {
      // libuv counts a timer's delay from its loop time in whole milliseconds (truncated), so a timer
      // fires up to a millisecond before its due time (0-6 % of ticks at 10 Hz here). Re-arm for anything
      // longer than that; sleep out a sub-millisecond remainder on this thread. It blocks the loop no
      // longer than a spin would, without the spin's CPU or its garbage: a clock read allocates (a
      // BigInt), and a 1-ms spin read it thousands of times.
      if (dueNs - now > 1e6) {
        this.schedule();
        return;
      }
      Atomics.wait(SLEEPER, 0, 0, (dueNs - now) / 1e6);
      while ((now = monoNowNs()) < dueNs); // Atomics.wait's timeout has microsecond resolution
    }
    const lagNs = now - dueNs;
    const behind = Math.floor(lagNs / this.intervalNs);
    const missed = behind > 0 ? behind : 0;
    const index = this.nextIndex + missed;
    this.missed += missed;
    this.ticks += 1;
    const effectiveDue = this.startMonoNs + index * this.intervalNs;
    const tick: Tick = { index, dueMonoNs: effectiveDue, monoNs: now, wallMs: Date.now(), lagNs: now - effectiveDue, missed };
    this.lag.record(tick.lagNs);
    this.nextIndex = index + 1;
    try {
      this.onTick(tick);
      this.rides?.afterTick();
    } finally {
      if (this.timer !== null) this.schedule();
    }
  }
}
