// cgroup v2 `cgroup.events` watch: the kernel flips `populated 1` → `0` the moment the container's
// last process exits, before Docker removes the cgroup (~10 ms before `die`, docs/measurement.md §4). Reading
// the counters right then closes most of the gap between the last tick and the end.
//
// Kernel facts (Documentation/admin-guide/cgroup-v2.rst): `cgroup.events` exists in every non-root v2
// cgroup (Linux 4.5+; `frozen` joined `populated` in 5.2) and a change of its values generates a file
// modified event (kernfs_notify), which inotify, and so fs.watch, delivers. v1 has no such file: there
// the end is seen at the next tick or the runtime's event.
import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { parseProcCgroup } from './proc-cgroup.js';
import type { CgroupMounts } from './mounts.js';

export interface PopulatedWatch {
  close(): void;
}

/**
 * The container's v2 directory from /proc/<pid>/cgroup (hybrid hosts have one too); null without v2, or
 * when the v2 path does not name the container (a v1-only engine leaves its containers in a parent's).
 */
export function v2CgroupDir(procCgroupText: string, mounts: CgroupMounts, containerId?: string): string | null {
  const v2Path = parseProcCgroup(procCgroupText).v2Path;
  if (!mounts.v2 || v2Path === null || v2Path === '/') return null;
  if (containerId !== undefined && !v2Path.includes(containerId)) return null;
  const dir = join(mounts.v2, v2Path);
  return existsSync(join(dir, 'cgroup.events')) ? dir : null;
}

function isEmpty(eventsFile: string): boolean | null {
  try {
    return /^populated 0$/m.test(readFileSync(eventsFile, 'utf8'));
  } catch {
    return null; // removed: the cgroup is gone
  }
}

/**
 * Calls onEmpty once when the cgroup has no process left (inotify on cgroup.events), or at once if
 * it is already empty. Returns null when the file cannot be watched (the caller relies on ticks).
 */
export function watchPopulated(dir: string, onEmpty: () => void): PopulatedWatch | null {
  const file = join(dir, 'cgroup.events');
  let done = false;
  let watcher: FSWatcher | null = null;
  const close = (): void => {
    done = true;
    watcher?.close();
    watcher = null;
  };
  const check = (): void => {
    if (done) return;
    const empty = isEmpty(file);
    if (empty === false) return;
    close();
    if (empty === true) onEmpty();
  };
  try {
    watcher = watch(file, { persistent: false }, check);
    watcher.on('error', close);
  } catch {
    return null;
  }
  check(); // it may have emptied before the watch was set
  return { close };
}
