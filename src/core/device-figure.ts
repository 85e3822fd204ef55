// The device-level GPU memory of one run on one tick: the official FLARE source (total − free of the
// run's GPUs), which counts every tenant of those GPUs, so it matters exactly which ones. Pure.
import type { RunPlacement } from './types.js';

export interface RunDeviceUse {
  /** What the run's request resolved to at attach (core/gpu-request.ts); absent for profile runs. */
  placement: Pick<RunPlacement, 'gpuIndices' | 'migUuids'> | undefined;
  /** GPUs its processes have appeared on so far. */
  gpusUsed: ReadonlySet<number>;
  /** MIG devices its processes have appeared in so far. */
  migsUsed: ReadonlySet<string>;
}

function sumOf<K>(keys: readonly K[], used: ReadonlyMap<K, number | null>): number | null {
  let sum = 0;
  for (const k of keys) {
    const v = used.get(k);
    if (v === null || v === undefined) return null; // one unknown device: the figure is unknown, not smaller
    sum += v;
  }
  return sum;
}

/**
 * MIG devices (given, else those its processes ran in) count with their own memory, not their GPU's,
 * which other tenants share. Otherwise the GPUs it was given, else those its processes used, else the
 * only GPU of a one-GPU node without MIG; null when none of these is known.
 */
export function runDeviceMiB(run: RunDeviceUse, deviceUsedMiB: ReadonlyMap<number, number | null>, migUsedMiB: ReadonlyMap<string, number | null>): number | null {
  const givenMigs = run.placement?.migUuids ?? [];
  const migs = givenMigs.length > 0 ? givenMigs : [...run.migsUsed];
  if (migs.length > 0) return sumOf(migs, migUsedMiB);
  if (deviceUsedMiB.size === 0) return null;
  let indices = (run.placement?.gpuIndices ?? []).filter((i) => deviceUsedMiB.has(i));
  if (indices.length === 0) indices = [...run.gpusUsed];
  // The lone GPU stands for the run only without MIG: a GPU split into MIG devices is many tenants'.
  if (indices.length === 0 && deviceUsedMiB.size === 1 && migUsedMiB.size === 0) indices = [...deviceUsedMiB.keys()];
  return indices.length === 0 ? null : sumOf(indices, deviceUsedMiB);
}
