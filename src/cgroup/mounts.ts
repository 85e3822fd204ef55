// Where the cgroup hierarchies are mounted, and which of them holds a target's counters.
// Mount points come from /proc/self/mountinfo, never hard-coded; the process's cgroup from
// /proc/<pid>/cgroup (proc-cgroup.ts), never guessed from a container id.
//
// Kernel facts: a mountinfo line (proc(5), Linux 2.6.26+) has the mount point as its 5th field, with
// space, tab, newline and backslash written as octal escapes (`\040`), and after the ` - ` separator
// the filesystem type, the source and the superblock options. A v1 hierarchy is type `cgroup` and
// names its controllers in those options, often co-mounted (`cpu,cpuacct`); the unified hierarchy is
// type `cgroup2` (Linux 4.5+) and lists the controllers it holds in its root's `cgroup.controllers`.
// A controller is bound to one hierarchy at a time: on a hybrid host (systemd's hybrid layout, Ubuntu's
// default until 21.10) cpu and memory are v1's and the unified mount holds none.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcCgroup } from './proc-cgroup.js';
import type { CgroupDir, CgroupPaths } from './types.js';

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

/** A target's counter directories and, in words, where they were found (/healthz, the run's method). */
export interface CgroupPick {
  paths: CgroupPaths;
  /** `v1 cpuacct at <dir>` or `v2 at <dir>`, then where memory is read (or that it is not). */
  method: string;
}

export interface PickOptions {
  /**
   * Text the target's cgroup path must contain (a container id): a hierarchy whose line for the
   * process is `/` or some parent's path does not hold the target's own cgroup, even if that path exists.
   */
  mustContain?: string;
  /** Existence check (injectable for fixture tests). */
  exists?: (path: string) => boolean;
}

/**
 * THE discovery of a process's counter directories (docs/cgroups.md §2): each hierarchy that the mount
 * table has and that the process's /proc/<pid>/cgroup names is a candidate, v1 cpuacct first (hybrid
 * hosts bind cpu accounting to v1), then v2; a candidate is taken only when its path holds the target
 * (mustContain) and its counter file exists. Memory likewise, from v1 memory or the v2 directory.
 * Returns why nothing fits otherwise, so the run and the log can say it.
 */
export function pickCgroup(text: string, mounts: CgroupMounts, opts: PickOptions = {}): CgroupPick | { reason: string } {
  const exists = opts.exists ?? existsSync;
  const parsed = parseProcCgroup(text);
  const holds = (rel: string): boolean => (opts.mustContain ? rel.includes(opts.mustContain) : rel !== '');
  const tried: string[] = [];
  const candidate = (version: 1 | 2, mount: string | null | undefined, rel: string | null | undefined, file: string, what: string): string | null => {
    if (!mount) return null;
    if (rel === null || rel === undefined) {
      tried.push(`${what} at ${mount}: the process has no line for it`);
      return null;
    }
    const dir = join(mount, rel);
    if (!holds(rel)) tried.push(`${what} at ${mount}: ${rel} does not hold the target`);
    else if (!exists(join(dir, file))) tried.push(`${what}: ${join(dir, file)} does not exist`);
    else return dir;
    return null;
  };
  // Linux shows an exiting or zombie task in the root `/` of every v1 hierarchy, while its v2 line keeps
  // its cgroup (proc_cgroup_show in kernel/cgroup/cgroup.c; seen on 6.18 here). A container caught exiting
  // at its attach on a hybrid host (an OOM kill in its first milliseconds: 1 in 10 in a loop of them)
  // thus reads `/` in v1. Its runtime names its v1 cgroups like its v2 one (cgroupfs `/docker/<id>`,
  // systemd `…/docker-<id>.scope`), so they are looked for at the v2 path: their counters, and the
  // kernel's OOM-kill count, are still there until the runtime removes them.
  const v1Values = Object.values(parsed.v1);
  const exitingAt = parsed.v2Path !== null && holds(parsed.v2Path) && v1Values.length > 0 && v1Values.every((p) => p === '/') ? parsed.v2Path : null;
  let foundAtV2Path = false;
  const v1Line = (controller: string, file: string): string | undefined => {
    const rel = parsed.v1[controller];
    const mount = mounts.v1[controller];
    if (rel !== '/' || exitingAt === null || !mount || !exists(join(mount, exitingAt, file))) return rel;
    foundAtV2Path = true;
    return exitingAt;
  };
  const v1Cpu = candidate(1, mounts.v1['cpuacct'], v1Line('cpuacct', 'cpuacct.usage'), 'cpuacct.usage', 'v1 cpuacct');
  // A v1 cpuacct line that names the target puts its CPU in v1 (a hybrid host's runtime accounts there).
  // Its directory gone means the cgroup was removed: the target ended (runc removes its v1 and unified
  // directories one by one, in no fixed order, so the unified one may outlive it by a few ms). That
  // unified directory holds no memory controller, so taking it would hide the end and the memory (and
  // with it the kernel's OOM count): nothing is picked, and the caller's alive check says why.
  const v1Removed = !v1Cpu && mounts.v1['cpuacct'] !== undefined && parsed.v1['cpuacct'] !== undefined && holds(parsed.v1['cpuacct']);
  if (v1Removed) return { reason: `${tried.join('; ')} (its v1 cgroup was removed: ended, or this mount table is stale)` };
  const v2Dir = candidate(2, mounts.v2, parsed.v2Path, 'cpu.stat', 'v2');
  const cpu: CgroupDir | null = v1Cpu ? { version: 1, dir: v1Cpu } : v2Dir ? { version: 2, dir: v2Dir } : null;
  if (!cpu) return { reason: tried.length > 0 ? tried.join('; ') : 'no cgroup hierarchy is mounted' };
  const memTried = tried.length;
  const v1Mem = candidate(1, mounts.v1['memory'], v1Line('memory', 'memory.usage_in_bytes'), 'memory.usage_in_bytes', 'v1 memory');
  tried.length = memTried;
  const memory: CgroupDir | null = v1Mem
    ? { version: 1, dir: v1Mem }
    : v2Dir && exists(join(v2Dir, 'memory.current'))
      ? { version: 2, dir: v2Dir }
      : null;
  const cpuWords = cpu.version === 1 ? `v1 cpuacct at ${cpu.dir}` : `v2 at ${cpu.dir}`;
  const memWords = memory === null ? 'memory: no memory controller holds it (RAM unknown)' : memory.dir === cpu.dir ? 'memory there too' : `memory: v${memory.version} at ${memory.dir}`;
  const exitingWords = foundAtV2Path ? ' (v1 found at its v2 path: the process was exiting, its v1 lines read /)' : '';
  return { paths: { cpu, memory }, method: `${cpuWords}, ${memWords}${exitingWords}` };
}

/** The hierarchies the mount table shows, in words (/healthz). */
export function describeMounts(mounts: CgroupMounts | null): string {
  if (!mounts) return 'none';
  const parts: string[] = [];
  if (mounts.v1['cpuacct']) parts.push(`v1 cpuacct at ${mounts.v1['cpuacct']}`);
  if (mounts.v1['memory']) parts.push(`v1 memory at ${mounts.v1['memory']}`);
  if (mounts.v2) parts.push(`v2 at ${mounts.v2} (controllers: ${mounts.v2Controllers.join(' ') || 'none'})`);
  return parts.length > 0 ? parts.join('; ') : 'none';
}
