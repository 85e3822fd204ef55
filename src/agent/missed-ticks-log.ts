// Missed ticks are counted in /metrics (flare_agent_missed_ticks_total); the log says when they happen,
// so that a stall can be matched with what the agent was doing then (a runtime's restart, a flood of
// readers). One line per `everyMs` at most; a line counts every tick missed since the one before it.
import type { Logger } from '../log.js';

export class MissedTicksLog {
  private lastLineMs = -Infinity;
  private missedSinceLine = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly nowMs: () => number = Date.now,
    private readonly everyMs = 10_000,
  ) {}

  /** A tick's report: its lag behind its (possibly advanced) due time and the ticks it skipped. */
  tick(lagSeconds: number, missed: number): void {
    if (missed <= 0) return;
    this.missedSinceLine += missed;
    const now = this.nowMs();
    if (now - this.lastLineMs < this.everyMs) return;
    // How late the loop came back: the skipped ticks plus the lag behind the tick finally served.
    this.log.warn('sampler missed ticks', { missedTicks: this.missedSinceLine, stalledMs: Math.round(missed * this.intervalMs + lagSeconds * 1000) });
    this.lastLineMs = now;
    this.missedSinceLine = 0;
  }
}
