// Axis scaling and the shaded region above a threshold, in data units. Pure.

/** "Nice" tick values covering [min, max] (1, 2, 5 × 10^k steps). */
export function niceTicks(min: number, max: number, target = 6): number[] {
  if (!(max > min)) max = min + 1;
  const rawStep = (max - min) / target;
  const mag = 10 ** Math.floor(Math.log10(rawStep));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= rawStep) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Upper end of a y axis: the largest value (and threshold) with 10 % headroom, at least 1. */
export function yMaxOf(values: readonly (number | null)[], extra: number | null): number {
  let max = extra ?? 0;
  for (const v of values) if (v !== null && v > max) max = v;
  return Math.max(1, max * 1.1);
}

export interface Pt {
  t: number;
  v: number;
}

/**
 * Polygons (in data units) of the region between the curve and the threshold where the curve is
 * above it, with the crossing points found linearly: the same area clippedAreaAbove integrates.
 * A null value ends a polygon (gaps count nothing).
 */
export function regionsAbove(t: readonly number[], values: readonly (number | null)[], threshold: number): Pt[][] {
  const regions: Pt[][] = [];
  let cur: Pt[] = [];
  const close = (): void => {
    if (cur.length > 1) {
      cur.push({ t: cur[cur.length - 1].t, v: threshold });
      cur.unshift({ t: cur[0].t, v: threshold });
      regions.push(cur);
    }
    cur = [];
  };
  for (let i = 0; i < t.length; i++) {
    const v = values[i];
    if (v === null) {
      close();
      continue;
    }
    const prev = i > 0 ? values[i - 1] : null;
    if (prev !== null && i > 0 && (prev - threshold) * (v - threshold) < 0) {
      const tc = t[i - 1] + ((threshold - prev) * (t[i] - t[i - 1])) / (v - prev);
      cur.push({ t: tc, v: threshold });
      if (v < threshold) close();
    }
    if (v >= threshold) cur.push({ t: t[i], v });
  }
  close();
  return regions;
}
