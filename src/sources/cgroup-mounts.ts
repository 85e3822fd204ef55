// Where the cgroup hierarchies are mounted, and which cgroup a process is in.
// Mount points come from /proc/self/mountinfo (v1 controllers are often co-mounted as cpu,cpuacct),
// never hard-coded; the process's cgroup from /proc/<pid>/cgroup, never guessed from a container id.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcCgroup } from '../core/attribution.js';
import type { CgroupPaths } from './types.js';

export interface CgroupMounts {
  /** v1 controller name → mount point (e.g. cpuacct → /sys/fs/cgroup/cpu,cpuacct). */
  v1: Record<string, string>;
  /** The cgroup2 mount point, if any (pure v2: /sys/fs/cgroup; hybrid: /sys/fs/cgroup/unified). */
  v2: string | null;
  /** True when v2 is the only hierarchy with controllers (cgroup.controllers at the v2 root lists cpu/memory). */
  v2Controllers: string[];
}

/** Parses /proc/self/mountinfo text (pure; exported for fixture tests). */
export function parseMountinfo(text: string): { v1: Record<string, string>; v2: string | null } {
  const v1: Record<string, string> = {};
  let v2: string | null = null;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mountPoint = unescapeMount(left[4] ?? '');
    const fsType = right[0];
    if (fsType === 'cgroup2') {
      v2 ??= mountPoint;
    } else if (fsType === 'cgroup') {
      for (const opt of (right[2] ?? '').split(',')) {
        if (['cpu', 'cpuacct', 'memory', 'freezer', 'pids'].includes(opt)) v1[opt] ??= mountPoint;
      }
    }
  }
  return { v1, v2 };
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function detectCgroupMounts(mountinfoPath = '/proc/self/mountinfo'): CgroupMounts {
  const { v1, v2 } = parseMountinfo(readFileSync(mountinfoPath, 'utf8'));
  let v2Controllers: string[] = [];
  if (v2 && existsSync(join(v2, 'cgroup.controllers'))) {
    v2Controllers = readFileSync(join(v2, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  }
  return { v1, v2, v2Controllers };
}

/**
 * Turns a process's /proc/<pid>/cgroup text into counter directories.
 * Prefers v1 cpuacct/memory where those controllers are mounted (hybrid hosts account there);
 * otherwise the single v2 directory holds cpu.stat and memory.current.
 */
export function cgroupPathsFromProcText(text: string, mounts: CgroupMounts): CgroupPaths | null {
  const parsed = parseProcCgroup(text);
  const cpuacct = parsed.v1['cpuacct'];
  const cpuMount = mounts.v1['cpuacct'];
  const v2Dir = mounts.v2 && parsed.v2Path !== null ? join(mounts.v2, parsed.v2Path) : null;
  const memV1 = parsed.v1['memory'] !== undefined && mounts.v1['memory'] ? join(mounts.v1['memory'], parsed.v1['memory']) : null;
  const memV2 = v2Dir && mounts.v2Controllers.includes('memory') ? v2Dir : null;
  const memory = memV1 ? { version: 1 as const, dir: memV1 } : memV2 ? { version: 2 as const, dir: memV2 } : null;
  if (cpuacct !== undefined && cpuMount) return { cpu: { version: 1, dir: join(cpuMount, cpuacct) }, memory };
  if (v2Dir) return { cpu: { version: 2, dir: v2Dir }, memory };
  return null;
}
