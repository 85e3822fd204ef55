// The time limit's last resort: when the runtime refuses a kill (dockerd shutting down or restarting,
// its socket gone), the agent ends the container's processes itself through the cgroup that holds them,
// so a limit is enforced at its deadline whether or not the runtime answers. The runtime still learns
// of the end as of any other: its shim reaps the init process and reports exit 137.
//
// Kernel facts: `cgroup.kill` (cgroup v2, Linux 5.14+) SIGKILLs every process of the cgroup and its
// descendants at once, forks included. Without it (v1, older kernels) every pid in `cgroup.procs` is sent
// SIGKILL, a few passes over, for what forked meanwhile; killing a container's init also ends its pid
// namespace, so the kernel kills what is left of a container with its own namespace (Docker's default).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PROCS_PASSES = 3;

export type CgroupKillHow = 'cgroup.kill' | 'cgroup.procs';

/**
 * SIGKILLs every process of the first of `dirs` (the container's own cgroup directories) that can do it.
 * Returns how, or null when none could (the cgroup is gone: the container has ended).
 */
export function killThroughCgroup(dirs: readonly string[], sendKill: (pid: number) => void = (pid) => process.kill(pid, 'SIGKILL')): CgroupKillHow | null {
  for (const dir of dirs) {
    const file = join(dir, 'cgroup.kill');
    if (!existsSync(file)) continue;
    try {
      writeFileSync(file, '1');
      return 'cgroup.kill';
    } catch {
      /* removed meanwhile, or not allowed here: try the next way */
    }
  }
  for (const dir of dirs) {
    let killed = false;
    for (let pass = 0; pass < PROCS_PASSES; pass++) {
      const pids = readPids(join(dir, 'cgroup.procs'));
      if (pids === null || pids.length === 0) break;
      for (const pid of pids) {
        try {
          sendKill(pid);
          killed = true;
        } catch {
          /* exited between the read and the kill */
        }
      }
    }
    if (killed) return 'cgroup.procs';
  }
  return null;
}

/** Whether any of `dirs` still lists a process (false when they are all empty or gone). */
export function holdsProcesses(dirs: readonly string[]): boolean {
  return dirs.some((dir) => (readPids(join(dir, 'cgroup.procs'))?.length ?? 0) > 0);
}

function readPids(file: string): number[] | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  // The kernel writes one decimal pid per line; anything else is not a pid to signal.
  return text.split('\n').filter((l) => /^[1-9]\d{0,9}$/.test(l)).map(Number);
}
