// Area under sampled curves (trapezoids over the actual sample times), with exact clipping at a
// threshold and null gaps. Pure; shared by the run summary, the plots and the web page.

/** One point of a sampled curve. `value` null (or non-finite) = unknown at that tick: a gap. */
export interface CurvePoint {
  /** Seconds since any fixed origin (the run's start in the summary). */
  tSeconds: number;
  value: number | null;
}

/** A value that may enter arithmetic: null and NaN/±Infinity count as unknown, never as numbers. */
export function isKnown(value: number | null | undefined): value is number {
  return value !== null && value !== undefined && Number.isFinite(value);
}

/**
 * ∫ max(0, v(t) − threshold) dt over one linear segment of length dtSeconds from v0 to v1.
 * When the segment crosses the threshold, only the part above it counts: the crossing is found
 * linearly, so the result is the exact area of the clipped triangle (not a trapezoid of clipped ends,
 * which would over- or under-count).
 */
export function segmentAreaAbove(dtSeconds: number, v0: number, v1: number, threshold: number): number {
  if (!(dtSeconds > 0)) return 0;
  const a = v0 - threshold;
  const b = v1 - threshold;
  if (a >= 0 && b >= 0) return ((a + b) / 2) * dtSeconds;
  if (a <= 0 && b <= 0) return 0;
  // One end above, one below: the part above is a triangle of height h and base dt·h/(|a|+|b|).
  const above = a > 0 ? a : b;
  return ((above * above) / (Math.abs(a) + Math.abs(b)) / 2) * dtSeconds;
}

/**
 * ∫ max(0, v(t) − threshold) dt by trapezoids (unit·s), e.g. GPU MiB above the 2048 MiB tolerance.
 * Segments with an unknown end are gaps and contribute nothing; points must be in time order.
 */
export function clippedAreaAbove(points: readonly CurvePoint[], threshold: number): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    const p = points[i - 1];
    const q = points[i];
    if (isKnown(p.value) && isKnown(q.value)) {
      area += segmentAreaAbove(q.tSeconds - p.tSeconds, p.value, q.value, threshold);
    }
  }
  return area;
}

/** Plain trapezoid ∫ v(t) dt (unit·s), gap-aware like clippedAreaAbove; no clipping at all. */
export function areaUnder(points: readonly CurvePoint[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    const p = points[i - 1];
    const q = points[i];
    const dtSeconds = q.tSeconds - p.tSeconds;
    if (isKnown(p.value) && isKnown(q.value) && dtSeconds > 0) {
      area += ((p.value + q.value) / 2) * dtSeconds;
    }
  }
  return area;
}

/** Linear interpolation of the value at time t between (t0, v0) and (t1, v1). */
export function interpolateLinear(t0: number, v0: number, t1: number, v1: number, t: number): number {
  if (t1 === t0) return v1;
  return v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
}

export interface CurveFigures {
  /** ∫ max(0, v − threshold) dt (or plain ∫ v dt without a threshold); null when no point is known. */
  area: number | null;
  /** Largest known value; null when no point is known. */
  max: number | null;
  knownCount: number;
  unknownCount: number;
}

/** Area (above threshold when one is given), max and gap counts of one curve. */
export function curveFigures(points: readonly CurvePoint[], threshold: number | null): CurveFigures {
  let max: number | null = null;
  let knownCount = 0;
  for (const p of points) {
    if (isKnown(p.value)) {
      knownCount++;
      if (max === null || p.value > max) max = p.value;
    }
  }
  return {
    area: knownCount === 0 ? null : threshold === null ? areaUnder(points) : clippedAreaAbove(points, threshold),
    max,
    knownCount,
    unknownCount: points.length - knownCount,
  };
}
