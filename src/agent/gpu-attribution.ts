// GPU process → run key, per tick: a container id for Docker runs, the cgroup path for profile runs.
import { sumGpuByTarget } from '../core/attribution.js';
import { containerIdFromProcCgroup, parseProcCgroup, profileCgroupOf } from '../cgroup/proc-cgroup.js';
import { PidTargetCache } from '../gpu/pidmap.js';
import type { GpuSnapshot } from '../gpu/types.js';
import type { GpuShare } from './run-spec.js';

/** Profile cgroups carry PROFILE_CGROUP_PREFIX (core/attribution.ts); a key only for those, so host processes stay unattributed. */
export function gpuTargetKey(procCgroupText: string): string | null {
  const id = containerIdFromProcCgroup(procCgroupText);
  if (id) return id;
  const parsed = parseProcCgroup(procCgroupText);
  for (const path of [parsed.v1['cpuacct'], parsed.v2Path]) {
    // Processes in a sub-cgroup the command made itself still belong to the profile run.
    const key = path ? profileCgroupOf(path) : null;
    if (key) return key;
  }
  return null;
}

/** observe: sees each tick's snapshot with the same pid → key lookup (the GPU recorder). */
export function createGpuAttributor(
  procRoot = '/proc',
  observe?: (snapshot: GpuSnapshot, keyOf: (pid: number) => string | null) => void,
): (snapshot: GpuSnapshot) => Map<string, GpuShare> {
  const cache = new PidTargetCache({ resolve: gpuTargetKey, procRoot });
  return (snapshot) => {
    const keyOf = cache.update(snapshot.processes);
    const shares = sumGpuByTarget(snapshot.processes, keyOf);
    observe?.(snapshot, keyOf);
    return shares;
  };
}
