// A cgroup of profile's own for the profiled command: created before the command starts (so every
// forked child is counted, even those that exit early), killed as a whole, removed at the end.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CgroupMounts } from './mounts.js';
import type { CgroupPaths } from './types.js';
import { cgroupPids, killThroughCgroup } from './kill.js';
import { parseProcCgroup, PROFILE_CGROUP_PREFIX, readProcCgroup } from './proc-cgroup.js';

export interface ProfileCgroup {
  paths: CgroupPaths;
  /** The cgroup path relative to its hierarchy root, as /proc/<pid>/cgroup shows it (GPU attribution key). */
  relPath: string;
  /** cgroup.procs files the child must write its pid into before exec. */
  procsFiles: string[];
  /** Kills every process in the cgroup (cgroup.kill on v2, else SIGKILL each member until empty). */
  killAll(): void;
  pids(): number[];
  remove(): void;
}

/** Passes over cgroup.procs when there is no cgroup.kill: a forking command may add processes meanwhile. */
const KILL_PASSES = 50;

/** Where our own process sits in a hierarchy (null: the v2 line), so the profile cgroup nests under the agent's. */
function ownPath(controller: string | null): string {
  const parsed = parseProcCgroup(readProcCgroup('self'));
  return (controller === null ? parsed.v2Path : parsed.v1[controller]) ?? '/';
}

/**
 * Removes empty `flare-profile-*` cgroups that a killed profile left behind. rmdir of a cgroup succeeds
 * only when no process is in it, so a command still running in one is never touched.
 */
function removeStaleSiblings(parentDir: string): void {
  let names: string[];
  try {
    names = readdirSync(parentDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(PROFILE_CGROUP_PREFIX)) continue;
    try {
      rmdirSync(join(parentDir, name));
    } catch {
      /* populated, or already gone */
    }
  }
}

/**
 * Creates `flare-profile-<name>` next to the agent: v1 cpuacct (+ memory) when mounted (hybrid hosts
 * account there), else under the agent's own v2 cgroup. Throws when not writable (caller falls back).
 */
export function createProfileCgroup(mounts: CgroupMounts, name: string): ProfileCgroup {
  const leaf = `${PROFILE_CGROUP_PREFIX}${name}`;
  if (mounts.v1['cpuacct']) {
    const cpuRel = join(ownPath('cpuacct'), leaf);
    const cpuDir = join(mounts.v1['cpuacct'], cpuRel);
    removeStaleSiblings(dirname(cpuDir));
    mkdirSync(cpuDir);
    let memDir: string | null = null;
    if (mounts.v1['memory']) {
      memDir = join(mounts.v1['memory'], ownPath('memory'), leaf);
      removeStaleSiblings(dirname(memDir));
      try {
        mkdirSync(memDir);
      } catch {
        memDir = null;
      }
    }
    const procsFiles = [join(cpuDir, 'cgroup.procs'), ...(memDir ? [join(memDir, 'cgroup.procs')] : [])];
    return makeHandle({ cpu: { version: 1, dir: cpuDir }, memory: memDir ? { version: 1, dir: memDir } : null }, cpuRel, procsFiles);
  }
  if (mounts.v2) {
    const rel = join(ownPath(null), leaf);
    const dir = join(mounts.v2, rel);
    removeStaleSiblings(dirname(dir));
    enableMemoryBelow(dirname(dir));
    mkdirSync(dir);
    const memory = existsSync(join(dir, 'memory.current')) ? { version: 2 as const, dir } : null;
    return makeHandle({ cpu: { version: 2, dir }, memory }, rel, [join(dir, 'cgroup.procs')]);
  }
  throw new Error('no cgroup hierarchy with cpu accounting is mounted');
}

/**
 * On v2 a child gets memory.current only if its parent delegates the memory controller
 * (`+memory` in the parent's cgroup.subtree_control). That is refused (EBUSY) when the parent is a
 * non-root cgroup with processes of its own (the no-internal-processes rule), and impossible when
 * the v2 root does not have the controller at all (a hybrid host binds it to v1): then RAM is
 * unknown (null), and profile's method says so. CPU needs no controller: cpu.stat's usage_usec is
 * kept for every v2 cgroup (docs/cgroups.md §3).
 */
function enableMemoryBelow(parentDir: string): void {
  try {
    const available = readFileSync(join(parentDir, 'cgroup.controllers'), 'utf8').split(/\s+/);
    const enabled = readFileSync(join(parentDir, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    if (available.includes('memory') && !enabled.includes('memory')) writeFileSync(join(parentDir, 'cgroup.subtree_control'), '+memory');
  } catch {
    /* not delegated to us, or the parent holds processes: RAM stays unknown */
  }
}

function makeHandle(paths: CgroupPaths, relPath: string, procsFiles: string[]): ProfileCgroup {
  const dirs = [...new Set([paths.cpu.dir, ...(paths.memory ? [paths.memory.dir] : [])])];
  const pids = (): number[] => [...new Set(dirs.flatMap((dir) => cgroupPids(dir) ?? []))];
  return {
    paths,
    relPath,
    procsFiles,
    pids,
    killAll(): void {
      // cgroup.kill on v2 (Linux 5.14+), else SIGKILL each member until none is left.
      killThroughCgroup(dirs, undefined, KILL_PASSES);
    },
    remove(): void {
      for (const dir of dirs) {
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            rmdirSync(dir);
            break;
          } catch {
            // EBUSY until the last member is reaped by the kernel.
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          }
        }
      }
    },
  };
}
