// Ending every process of a cgroup, and listing them: the one kill through a cgroup, for the time
// limit's last resort (src/runtime/enforce.ts) and for the profile command's own cgroup (profile-cgroup.ts).
//
// The time limit's last resort: when the runtime refuses a kill (dockerd shutting down or restarting,
// its socket gone), the agent ends the container's processes itself through the cgroup that holds them,
// so a limit is enforced at its deadline whether or not the runtime answers. The runtime still learns
// of the end as of any other: its shim reaps the init process and reports exit 137.
//
// Kernel facts: `cgroup.kill` (cgroup v2, Linux 5.14+) SIGKILLs every process of the cgroup and its
// descendants at once, forks included. Without it (v1, older kernels) every pid in `cgroup.procs` is sent
// SIGKILL, a few passes over, for what forked meanwhile; killing a container's init also ends its pid
// namespace, so the kernel kills what is left of a container with its own namespace (Docker's default).
//
// Privilege (docs/security.md, "Enforcing time limits"): writing `cgroup.kill` needs the cgroup
// filesystem mounted read-write where the agent runs and write access to that root-owned 0644 file
// (uid 0, or CAP_DAC_OVERRIDE); signalling a pid of `cgroup.procs` needs the same uid as the process or
// CAP_KILL. Without them the kernel answers EROFS, EACCES or EPERM: that is reported as `denied`, never
// read as "the container has ended".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupKillHow } from '../core/run-facts.js';

const PROCS_PASSES = 3;

/** killed: how; denied: processes are left and every way was refused (the errors, e.g. `cgroup.kill: EROFS`). */
export type CgroupKillResult = { killed: CgroupKillHow } | { denied: string };

/** An error that says the file or process is gone (the container ended), not that the agent may not. */
const GONE = new Set(['ENOENT', 'ENODEV', 'ESRCH']);

/**
 * SIGKILLs every process of the first of `dirs` (the container's own cgroup directories) that can do it.
 * Returns how; `denied` when processes remain and no way was allowed (read-only cgroupfs, no
 * privilege); null when there is nothing to kill (the cgroup is gone or empty: the container has ended).
 */
export function killThroughCgroup(
  dirs: readonly string[],
  sendKill: (pid: number) => void = (pid) => process.kill(pid, 'SIGKILL'),
  passes = PROCS_PASSES,
): CgroupKillResult | null {
  const refusals = new Set<string>();
  const refused = (what: string, err: unknown): void => {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (!GONE.has(code)) refusals.add(`${what}: ${code}`);
  };
  for (const dir of dirs) {
    const file = join(dir, 'cgroup.kill');
    if (!existsSync(file)) continue;
    try {
      writeFileSync(file, '1');
      return { killed: 'cgroup.kill' };
    } catch (err) {
      refused('cgroup.kill', err); // removed meanwhile (gone), or not allowed here: try the next way
    }
  }
  for (const dir of dirs) {
    let killed = false;
    for (let pass = 0; pass < passes; pass++) {
      const pids = cgroupPids(dir);
      if (pids === null || pids.length === 0) break;
      for (const pid of pids) {
        try {
          sendKill(pid);
          killed = true;
        } catch (err) {
          refused('kill', err); // ESRCH: exited between the read and the kill
        }
      }
    }
    if (killed) return { killed: 'cgroup.procs' };
  }
  return refusals.size > 0 && holdsProcesses(dirs) ? { denied: [...refusals].join(', ') } : null;
}

/** Whether any of `dirs` still lists a process (false when they are all empty or gone). */
export function holdsProcesses(dirs: readonly string[]): boolean {
  return dirs.some((dir) => (cgroupPids(dir)?.length ?? 0) > 0);
}

/** The pids of `dir`'s cgroup.procs (its own processes, not its descendants'); null when it cannot be read (gone). */
export function cgroupPids(dir: string): number[] | null {
  let text: string;
  try {
    text = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return null;
  }
  // The kernel writes one decimal pid per line; anything else is not a pid to signal.
  return text.split('\n').filter((l) => /^[1-9]\d{0,9}$/.test(l)).map(Number);
}
