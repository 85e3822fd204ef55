// Fallback when cgroups are not writable: follow the command's process tree through /proc.
// Less exact than a cgroup (CPU of a child that exits is only counted once its parent has reaped it,
// and orphans re-parented to init are lost), so runs measured this way carry the flag 'proc-tree-fallback'.
import { readdirSync, readFileSync } from 'node:fs';
import type { CounterReader } from '../agent/run-spec.js';
import type { CgroupReading } from '../cgroup/types.js';

const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

interface ProcStat {
  pid: number;
  ppid: number;
  cpuTicks: number;
  rssPages: number;
}

/** Fields of /proc/<pid>/stat after the parenthesised command name (which may contain spaces). */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = parseInt(text, 10);
  const f = text.slice(close + 2).split(' ');
  // f[0] is state (field 3); utime/stime/cutime/cstime are fields 14–17, rss is field 24.
  const n = (field: number): number => Number(f[field - 3]) || 0;
  return { pid, ppid: n(4), cpuTicks: n(14) + n(15) + n(16) + n(17), rssPages: n(24) };
}

export class ProcTreeReader implements CounterReader {
  private lastCpuSeconds = 0;
  constructor(private readonly rootPid: number, private readonly procRoot = '/proc') {}

  read(): CgroupReading {
    const all = new Map<number, ProcStat>();
    for (const name of readdirSync(this.procRoot)) {
      if (name.charCodeAt(0) > 57) continue;
      try {
        const st = parseProcStat(readFileSync(`${this.procRoot}/${name}/stat`, 'latin1'));
        if (st) all.set(st.pid, st);
      } catch {
        /* exited meanwhile */
      }
    }
    if (!all.has(this.rootPid)) return { cpuSeconds: this.lastCpuSeconds, ramMiB: null };
    const children = new Map<number, number[]>();
    for (const st of all.values()) children.set(st.ppid, [...(children.get(st.ppid) ?? []), st.pid]);
    let ticks = 0;
    let rssPages = 0;
    const stack = [this.rootPid];
    while (stack.length) {
      const pid = stack.pop()!;
      const st = all.get(pid);
      if (!st) continue;
      ticks += st.cpuTicks;
      rssPages += st.rssPages;
      stack.push(...(children.get(pid) ?? []));
    }
    // A reaped child's CPU moves into its parent's cutime, so the sum never goes down; keep it monotonic anyway.
    this.lastCpuSeconds = Math.max(this.lastCpuSeconds, ticks / CLOCK_TICKS_PER_SECOND);
    return { cpuSeconds: this.lastCpuSeconds, ramMiB: (rssPages * PAGE_BYTES) / (1024 * 1024) };
  }

  close(): void {}
}
