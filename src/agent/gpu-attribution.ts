// GPU process → run key, per tick: a container id for Docker runs, the cgroup path for profile runs.
import { containerIdFromProcCgroup, parseProcCgroup, sumGpuByTarget } from '../core/attribution.js';
import { PidTargetCache } from '../gpu/pidmap.js';
import type { GpuSnapshot } from '../gpu/types.js';
import { PROFILE_CGROUP_PREFIX } from '../profile/cgroup.js';
import type { GpuShare } from './run-spec.js';

/** The profile cgroup a path lies in (the path up to its last `/flare-profile-*` component), or null. */
function profileCgroupOf(path: string): string | null {
  const at = path.lastIndexOf('/' + PROFILE_CGROUP_PREFIX);
  if (at < 0) return null;
  const end = path.indexOf('/', at + 1);
  return end < 0 ? path : path.slice(0, end);
}

/** Profile cgroups carry PROFILE_CGROUP_PREFIX; a key only for those, so host processes stay unattributed. */
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
