// A runtime's epoch-ns instants (start, exit) onto the agent's monotonic clock, where the samples live. Pure.

/** The two clocks read at (nearly) the same moment. */
export interface ClockPair {
  wallMs: number;
  monoNs: number;
}

/** An epoch-ns instant on the monotonic clock, through the wall/monotonic offset of `now` (±1 ms: Date's resolution). */
export function epochNsToMonoNs(epochNs: bigint, now: ClockPair): number {
  const agoNs = BigInt(now.wallMs) * 1_000_000n - epochNs;
  return now.monoNs - Number(agoNs);
}
