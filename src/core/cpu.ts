// CPU from the cgroup's cumulative counter: reset correction, value at a time, interval utilisation. Pure.
import { interpolateLinear } from './auc.js';

/** One reading of a cumulative CPU counter. */
export interface CounterPoint {
  tSeconds: number;
  cpuSeconds: number;
}

export interface CorrectedCounter {
  /** The same points, made monotone across resets. */
  points: CounterPoint[];
  /** How many times the raw counter went down. */
  resetCount: number;
}

/**
 * A cumulative counter that goes down was reset (e.g. the cgroup was recreated, starting again at 0).
 * The value read just before the reset is kept as an offset so the total keeps growing; CPU used
 * between that last read and the reset is not seen and is therefore not counted.
 */
export function correctCounterResets(points: readonly CounterPoint[]): CorrectedCounter {
  const out: CounterPoint[] = [];
  let offsetSeconds = 0;
  let resetCount = 0;
  let prevRaw: number | null = null;
  for (const p of points) {
    if (prevRaw !== null && p.cpuSeconds < prevRaw) {
      offsetSeconds += prevRaw;
      resetCount++;
    }
    prevRaw = p.cpuSeconds;
    out.push({ tSeconds: p.tSeconds, cpuSeconds: p.cpuSeconds + offsetSeconds });
  }
  return { points: out, resetCount };
}

/**
 * The counter's value at time t, interpolated linearly between the readings around t.
 * Before the first reading it interpolates from (0 s, 0 CPU s): the counter starts at zero when the
 * cgroup is created, which is the run's start (t = 0). After the last reading it returns the last
 * value (no extrapolation). No readings: 0.
 */
export function counterAtSeconds(points: readonly CounterPoint[], tSeconds: number): number {
  if (points.length === 0) return 0;
  const last = points[points.length - 1];
  if (tSeconds >= last.tSeconds) return last.cpuSeconds;
  const i = points.findIndex((p) => p.tSeconds >= tSeconds);
  const next = points[i];
  if (next.tSeconds === tSeconds) return next.cpuSeconds;
  if (i === 0 && tSeconds <= 0) return 0;
  const prev = i > 0 ? points[i - 1] : { tSeconds: 0, cpuSeconds: 0 };
  return interpolateLinear(prev.tSeconds, prev.cpuSeconds, next.tSeconds, next.cpuSeconds, tSeconds);
}

/** Utilisation over one sample interval, in % of one core. */
export interface IntervalUtilisation {
  t0Seconds: number;
  t1Seconds: number;
  corePct: number;
}

/** `100 × ΔcpuSeconds / Δt` for each pair of consecutive readings (pairs with Δt ≤ 0 are skipped). */
export function intervalCorePct(points: readonly CounterPoint[]): IntervalUtilisation[] {
  const out: IntervalUtilisation[] = [];
  for (let i = 1; i < points.length; i++) {
    const p = points[i - 1];
    const q = points[i];
    const dtSeconds = q.tSeconds - p.tSeconds;
    if (dtSeconds > 0) {
      out.push({ t0Seconds: p.tSeconds, t1Seconds: q.tSeconds, corePct: (100 * (q.cpuSeconds - p.cpuSeconds)) / dtSeconds });
    }
  }
  return out;
}
