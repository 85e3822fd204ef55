// Whether a process still lives: the test that tells "the target ended, so its cgroup went away"
// from "its counters cannot be read while it runs" (docs/cgroups.md §4).
import { readFileSync } from 'node:fs';

/** State and start time (clock ticks since boot) from /proc/<pid>/stat; null when there is no such process. */
export function procStat(pid: number, procRoot = '/proc'): { state: string; startTicks: string } | null {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const startTicks = rest[19];
  return state && startTicks ? { state, startTicks } : null;
}

/**
 * A check that answers true while `pid` is the same living process as now (not a zombie, and not a new
 * process that reused the pid). Without a pid (0, or already gone) the target counts as ended.
 */
export function aliveCheck(pid: number, procRoot = '/proc'): () => boolean {
  const first = pid > 0 ? procStat(pid, procRoot) : null;
  if (!first) return () => false;
  return () => {
    const now = procStat(pid, procRoot);
    return now !== null && now.state !== 'Z' && now.state !== 'X' && now.startTicks === first.startTicks;
  };
}
