// Attribution of GPU memory to targets (containers, profiled commands). Pure: the caller reads
// /proc/<pid>/cgroup; this module only parses text and sums numbers.
import type { GpuProcess } from './types.js';

/**
 * Every cgroup `profile` creates is named with this prefix: GPU attribution keys profile runs by it, and
 * stale ones (a killed profile's) are found by it.
 */
export const PROFILE_CGROUP_PREFIX = 'flare-profile-';

/** The profile cgroup a path lies in (the path up to its last `/flare-profile-*` component), or null. */
export function profileCgroupOf(path: string): string | null {
  const at = path.lastIndexOf('/' + PROFILE_CGROUP_PREFIX);
  if (at < 0) return null;
  const end = path.indexOf('/', at + 1);
  return end < 0 ? path : path.slice(0, end);
}

export interface ProcCgroup {
  /** The unified-hierarchy path from the `0::<path>` line; null when the process has none (pure v1). */
  v2Path: string | null;
  /** v1 controller (or `name=systemd`) → path; co-mounted controllers (`cpu,cpuacct`) each get an entry. */
  v1: Record<string, string>;
}

/** Parses /proc/<pid>/cgroup (`id:controllers:path` per line) for v1, v2 and hybrid hosts. */
export function parseProcCgroup(text: string): ProcCgroup {
  const result: ProcCgroup = { v2Path: null, v1: {} };
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1).trim();
    if (path === '') continue;
    if (line.slice(0, first) === '0' && controllers === '') {
      result.v2Path = path;
    } else {
      for (const controller of controllers.split(',')) if (controller) result.v1[controller] = path;
    }
  }
  return result;
}

// Exactly 64 hex digits, not part of a longer hex run: docker-<id>.scope, cri-containerd-<id>.scope, <id>.
const CONTAINER_ID = /(?:^|[^0-9a-f])([0-9a-f]{64})(?![0-9a-f])/;

/**
 * The container id in a cgroup path: the 64-hex id of the LAST path component that holds one
 * (Docker-in-Docker `/docker/<outer>/docker/<inner>` → inner; Kubernetes `…/pod<uid>/<id>` → id).
 */
export function containerIdFromCgroupPath(path: string): string | null {
  const parts = path.split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    const m = CONTAINER_ID.exec(parts[i]);
    if (m) return m[1];
  }
  return null;
}

// Where to look first on a v1/hybrid host: the controllers the agent reads counters from.
const V1_PREFERENCE = ['cpuacct', 'cpu', 'memory', 'pids', 'name=systemd'];

/** The container id a process belongs to, from its /proc/<pid>/cgroup text; null for a host process. */
export function containerIdFromProcCgroup(text: string): string | null {
  const parsed = parseProcCgroup(text);
  const paths = [
    parsed.v2Path,
    ...V1_PREFERENCE.map((c) => parsed.v1[c]),
    ...Object.values(parsed.v1),
  ];
  for (const path of paths) {
    const id = path ? containerIdFromCgroupPath(path) : null;
    if (id) return id;
  }
  return null;
}

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
