// Which cgroup a process is in, from /proc/<pid>/cgroup, and what a cgroup path names (a container, a
// profile run). The one reader and parser of that file; the parsers are pure, for fixture tests.
//
// Kernel facts (cgroups(7)): the file has one `hierarchy-ID:controller-list:cgroup-path` line per
// mounted hierarchy, the path relative to that hierarchy's root. The unified (v2) hierarchy is the
// line `0::<path>` (Linux 4.5+); a v1 hierarchy lists its co-mounted controllers (`4:cpu,cpuacct:/…`)
// and a named one `name=systemd`. A process in a cgroup namespace sees paths relative to its
// namespace root (Linux 4.6+); the agent reads from the host's namespace, as its deployments run it.
import { readFileSync } from 'node:fs';

/** The text of /proc/<pid>/cgroup (throws ENOENT when the process is gone). */
export function readProcCgroup(pid: number | 'self', procRoot = '/proc'): string {
  return readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
}

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
