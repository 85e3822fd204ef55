// A run's samples on the run's own time axis (seconds since its start), and the cut at a time limit. Pure.
import { interpolateLinear, isKnown } from './auc.js';
import type { RunSample } from './types.js';

/** A RunSample placed at seconds since the run's start; unknown (null/non-finite) values are null. */
export interface SampleRow {
  tSeconds: number;
  cpuSeconds: number | null;
  ramMiB: number | null;
  gpuMiB: number | null;
  gpuDeviceMiB: number | null;
}

const known = (v: number | null): number | null => (isKnown(v) ? v : null);

/** Rows in time order. The start is subtracted in ns before scaling, to keep sub-µs precision. */
export function toRows(samples: readonly RunSample[], startedMonoNs: number): SampleRow[] {
  const rows = samples.map((s) => ({
    tSeconds: (s.monoNs - startedMonoNs) / 1e9,
    cpuSeconds: known(s.cpuSeconds),
    ramMiB: known(s.ramMiB),
    gpuMiB: known(s.gpuMiB),
    gpuDeviceMiB: known(s.gpuDeviceMiB),
  }));
  // Callers pass ascending ticks; a stable sort costs little and protects the integrals if not.
  return rows.sort((a, b) => a.tSeconds - b.tSeconds);
}

export interface CutRows {
  /** Rows up to the cut; ends with a row interpolated at the cut when rows exist on both sides. */
  kept: SampleRow[];
  /** The first row after the cut (what the interpolation used), null when none. */
  firstAfter: SampleRow | null;
  interpolatedAtCut: boolean;
}

function between(v0: number | null, v1: number | null, t0: number, t1: number, t: number): number | null {
  return v0 !== null && v1 !== null ? interpolateLinear(t0, v0, t1, v1, t) : null;
}

/**
 * Keeps the rows at or before cutSeconds. When the cut falls between two rows, a row at the cut is
 * added with each value interpolated linearly (null when either neighbour is unknown: a gap stays a gap).
 * The CPU counter is not interpolated here (it needs reset correction first; see cpu.ts).
 */
export function cutRowsAt(rows: readonly SampleRow[], cutSeconds: number): CutRows {
  const kept = rows.filter((r) => r.tSeconds <= cutSeconds);
  const firstAfter = rows.find((r) => r.tSeconds > cutSeconds) ?? null;
  const last = kept[kept.length - 1];
  if (last === undefined || firstAfter === null || last.tSeconds === cutSeconds) {
    return { kept, firstAfter, interpolatedAtCut: false };
  }
  const t0 = last.tSeconds;
  const t1 = firstAfter.tSeconds;
  kept.push({
    tSeconds: cutSeconds,
    cpuSeconds: null,
    ramMiB: between(last.ramMiB, firstAfter.ramMiB, t0, t1, cutSeconds),
    gpuMiB: between(last.gpuMiB, firstAfter.gpuMiB, t0, t1, cutSeconds),
    gpuDeviceMiB: between(last.gpuDeviceMiB, firstAfter.gpuDeviceMiB, t0, t1, cutSeconds),
  });
  return { kept, firstAfter, interpolatedAtCut: true };
}
