// Small order statistics used by the summary and the official-compatible block. Pure.

/** Largest value, or null for an empty list. */
export function maxOrNull(values: readonly number[]): number | null {
  let max: number | null = null;
  for (const v of values) if (max === null || v > max) max = v;
  return max;
}

/** Sum of the values (0 for an empty list). */
export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** FLARE22's share threshold for the "stable" maximum: a value must occur in more than 2 % of samples. */
export const STABLE_MAX_MIN_SHARE = 0.02;

/**
 * FLARE22's "stable max": the largest value that occurs in more than `minShare` of the samples
 * (strictly more, as the organisers' load_json.py does: `count > 0.02 * len`), which drops spikes.
 *
 * Values are counted after rounding to whole units (MiB, %). The organisers counted exact values,
 * which works for NVML's whole-MiB GPU readings but would make almost every float (RAM in MiB,
 * CPU %) unique, so nothing would pass; rounding keeps their intent for every curve and leaves
 * whole-MiB GPU data unchanged. Returns the rounded value, or null when no value passes (their
 * script would have failed there: `max([])`) or the list is empty.
 */
export function stableMax(values: readonly number[], minShare: number = STABLE_MAX_MIN_SHARE): number | null {
  const counts = new Map<number, number>();
  for (const v of values) countRounded(counts, v);
  return stableMaxOfCounts(counts, values.length, minShare);
}

/** Counts one value for stableMax, rounded to whole units (as stableMax counts it). */
export function countRounded(counts: Map<number, number>, v: number): void {
  const rounded = Math.round(v);
  counts.set(rounded, (counts.get(rounded) ?? 0) + 1);
}

/** stableMax of `n` values already counted by countRounded (an accumulator's way to the same result). */
export function stableMaxOfCounts(counts: ReadonlyMap<number, number>, n: number, minShare: number = STABLE_MAX_MIN_SHARE): number | null {
  const minCountExclusive = minShare * n;
  let best: number | null = null;
  for (const [value, count] of counts) {
    if (count > minCountExclusive && (best === null || value > best)) best = value;
  }
  return best;
}
