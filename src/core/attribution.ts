// Attribution of GPU memory to targets (containers, profiled commands). Pure: the caller maps each pid
// to its target (src/cgroup/proc-cgroup.ts reads which cgroup a process is in); this module sums numbers.
import type { GpuProcess } from './types.js';

export interface TargetGpuUse {
  /** Sum over the target's processes and GPUs; null when any of its processes said "not available". */
  totalMiB: number | null;
  /** Per GPU index, the same sum (null: a process on that GPU was "not available"). */
  byIndex: Record<number, number | null>;
  /** GPU indices the target has processes on, ascending. */
  gpuIndices: number[];
  /**
   * The same sums per device: key deviceKey(gpu, migUuid): the GPU index alone for processes outside
   * MIG, "<index> <MIG uuid>" for a MIG device ("<index> ?" for a MIG instance not known yet).
   */
  byDevice: Record<string, number | null>;
}

/** The MIG UUIDs among byDevice keys ("<gpu> <uuid>"; "?" is a MIG instance not known yet). */
export function migUuidsOfDevices(byDevice: Record<string, number | null>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(byDevice)) {
    const space = key.indexOf(' ');
    if (space > 0 && key.slice(space + 1) !== '?') out.push(key.slice(space + 1));
  }
  return out;
}

/** The byDevice key of a process: its GPU, and its MIG device when it runs in one. */
export function deviceKey(gpuIndex: number, migUuid: string | null | undefined): string {
  if (migUuid === undefined) return String(gpuIndex);
  return `${gpuIndex} ${migUuid ?? '?'}`;
}

/**
 * GPU memory per target for one tick. Processes whose pid maps to no target (host processes,
 * other tools) are left out. One "not available" process makes its target's total unknown, not 0.
 */
export function sumGpuByTarget(
  processes: readonly GpuProcess[],
  targetOfPid: (pid: number) => string | null,
): Map<string, TargetGpuUse> {
  const byTarget = new Map<string, TargetGpuUse>();
  for (const p of processes) {
    const target = targetOfPid(p.pid);
    if (target === null) continue;
    let use = byTarget.get(target);
    if (!use) {
      use = { totalMiB: 0, byIndex: {}, gpuIndices: [], byDevice: {} };
      byTarget.set(target, use);
    }
    if (!(p.gpuIndex in use.byIndex)) {
      use.byIndex[p.gpuIndex] = 0;
      use.gpuIndices.push(p.gpuIndex);
    }
    const key = deviceKey(p.gpuIndex, p.migUuid);
    const onDevice = key in use.byDevice ? use.byDevice[key] : 0;
    use.byDevice[key] = onDevice === null || p.usedMiB === null ? null : onDevice + p.usedMiB;
    const onGpu = use.byIndex[p.gpuIndex];
    use.byIndex[p.gpuIndex] = onGpu === null || p.usedMiB === null ? null : onGpu + p.usedMiB;
    use.totalMiB = use.totalMiB === null || p.usedMiB === null ? null : use.totalMiB + p.usedMiB;
  }
  for (const use of byTarget.values()) use.gpuIndices.sort((a, b) => a - b);
  return byTarget;
}
