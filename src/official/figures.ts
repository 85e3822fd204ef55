// The official CSV's numbers from the modelled monitor lists: sums × the nominal interval, the max
// rule per column and numpy's rounding, per challenge year (docs/scoring.md). Pure.
import type { OfficialFigures } from '../core/types.js';
import type { OfficialSpan, OfficialTrace } from './model.js';

/** 'max': the plain maximum. 'stable': the largest value present in more than `stableMinShare` of the samples. */
export type MaxRule = 'max' | 'stable';

/** Decimals per column as numpy's round takes them; null: not rounded (FLARE21 wrote raw floats). */
export interface OfficialDecimals {
  time: number | null;
  gpuMax: number | null;
  gpuAuc: number | null;
  cpuMax: number | null;
  cpuAuc: number | null;
  ramMax: number | null;
  ramAuc: number | null;
}

export interface OfficialRules {
  maxRule: { gpu: MaxRule; cpu: MaxRule; ram: MaxRule };
  /** FLARE21/22: 0.02 (a value must occur in more than 2 % of the samples). */
  stableMinShare: number;
  decimals: OfficialDecimals;
  /** What every sum is multiplied by (s): the script's sleep, not its real period. */
  nominalIntervalSeconds: number;
}


/** Round half to even, as C's rint (numpy's rint and round use it). */
export function rint(x: number): number {
  if (!Number.isFinite(x)) return x;
  const frac = Math.abs(x % 1);
  return frac === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

/**
 * numpy's `np.round(x, decimals)` for decimals ≥ 0: rint(x·10^d) / 10^d. The scaling happens in
 * binary floating point first, exactly as numpy does, so 1.005 → 1 (1.005·100 = 100.4999…) while
 * 2.675 → 2.68 (2.675·100 is exactly 267.5, whose even neighbour is 268); exact halves go to the
 * even neighbour: np.round(0.125, 2) = 0.12, np.round(2.5) = 2.
 */
export function npRound(x: number, decimals: number): number {
  if (!Number.isInteger(decimals) || decimals < 0) throw new RangeError(`decimals must be an integer ≥ 0, got ${decimals}`);
  if (decimals === 0) return rint(x);
  const scale = 10 ** decimals;
  return rint(x * scale) / scale;
}

const roundOrRaw = (x: number | null, d: number | null): number | null => (x === null || d === null ? x : npRound(x, d));

/**
 * The organisers' stable max on exact values: every distinct value counted, kept when its count
 * is strictly more than share × n, the largest kept returned (null: none kept, where their script
 * failed on `max([])`, or no values).
 */
export function stableMaxExact(values: readonly number[], share: number): number | null {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | null = null;
  for (const [v, c] of counts) if (c > share * values.length && (best === null || v > best)) best = v;
  return best;
}

function maxBy(values: readonly number[], rule: MaxRule, share: number): number | null {
  if (values.length === 0) return null;
  if (rule === 'stable') return stableMaxExact(values, share);
  let m = values[0];
  for (const v of values) if (v > m) m = v;
  return m;
}

function sumTimes(values: readonly number[], seconds: number): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s * seconds;
}

export function officialFigures(trace: OfficialTrace, span: OfficialSpan, rules: OfficialRules): OfficialFigures {
  const d = rules.decimals;
  const share = rules.stableMinShare;
  const dt = rules.nominalIntervalSeconds;
  return {
    timeSeconds: roundOrRaw((span.timeEndMonoNs - span.timeStartMonoNs) / 1e9, d.time) as number,
    maxGpuMiB: roundOrRaw(maxBy(trace.gpuMiB, rules.maxRule.gpu, share), d.gpuMax),
    aucGpuMiBs: roundOrRaw(sumTimes(trace.gpuMiB, dt), d.gpuAuc),
    maxCpuPct: roundOrRaw(maxBy(trace.cpuPct, rules.maxRule.cpu, share), d.cpuMax),
    aucCpuPctS: roundOrRaw(sumTimes(trace.cpuPct, dt), d.cpuAuc),
    maxRamMiB: roundOrRaw(maxBy(trace.ramMiB, rules.maxRule.ram, share), d.ramMax),
    aucRamMiBs: roundOrRaw(sumTimes(trace.ramMiB, dt), d.ramAuc),
    sampleCount: Math.max(trace.gpuMiB.length, trace.cpuPct.length, trace.ramMiB.length),
    periodSeconds: trace.periodSeconds,
    spanSource: span.source,
  };
}
