// The time limit, defined once (used by the run manager's deadline and by the summary). Pure.
//
// A run exceeds its limit when its elapsed time is STRICTLY greater than the limit. Elapsed time is
// measured on the monotonic clock while the run lives (start = Docker's StartedAt mapped onto it), and
// as Docker's FinishedAt − StartedAt (or the monotonic span) in the summary: the same quantity.

/** Enforcement waits this long past the limit, so the target's own end time (Docker's FinishedAt −
 * StartedAt, ns) is past the limit too despite the ±1 ms mapping between clocks. */
export const LIMIT_ENFORCE_MARGIN_MS = 5;

export function exceedsTimeLimit(elapsedSeconds: number, limitSeconds: number | null): boolean {
  return limitSeconds !== null && elapsedSeconds > limitSeconds;
}

/** Whether a run started at startedMonoNs is over its limit at nowMonoNs (both CLOCK_MONOTONIC ns). */
export function exceededAtMonoNs(startedMonoNs: number, nowMonoNs: number, limitSeconds: number | null): boolean {
  return exceedsTimeLimit((nowMonoNs - startedMonoNs) / 1e9, limitSeconds);
}

/** When enforcement is due (monotonic ns): the limit plus the margin; null without a limit. */
export function enforceAtMonoNs(startedMonoNs: number, limitSeconds: number | null): number | null {
  return limitSeconds === null ? null : startedMonoNs + limitSeconds * 1e9 + LIMIT_ENFORCE_MARGIN_MS * 1e6;
}
