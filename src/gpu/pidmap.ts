// pid → target key cache for GPU attribution. NVML reports host pids; each new pid costs one read of
// /proc/<pid>/cgroup, then stays cached while the pid remains in NVML's process list (pids die and are
// recycled, so an entry is dropped as soon as its pid leaves the list).
import type { GpuProcess } from '../core/types.js';
import { readProcCgroup } from '../cgroup/proc-cgroup.js';

export interface PidTargetCacheOptions {
  /** Maps /proc/<pid>/cgroup text to a target key (a container id, a cgroup path) or null (not ours). */
  resolve: (procCgroupText: string) => string | null;
  /** Root of the proc filesystem (default '/proc'; a container running the agent may mount the host's elsewhere). */
  procRoot?: string;
  /**
   * How long a pid that resolved to null (or whose file could not be read) keeps that answer before it
   * is read again: a process may be moved into its target's cgroup after NVML first sees it. Default 1000 ms.
   */
  retryUnresolvedMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  nowMs?: () => number;
}

interface Entry {
  target: string | null;
  readAtMs: number;
}

export class PidTargetCache {
  private readonly entries = new Map<number, Entry>();
  private readonly resolve: (procCgroupText: string) => string | null;
  private readonly procRoot: string;
  private readonly retryUnresolvedMs: number;
  private readonly nowMs: () => number;
  /** Bound once so callers can pass it to sumGpuByTarget without allocating per tick. */
  readonly targetOf = (pid: number): string | null => this.lookup(pid);

  constructor(opts: PidTargetCacheOptions) {
    this.resolve = opts.resolve;
    this.procRoot = opts.procRoot ?? '/proc';
    this.retryUnresolvedMs = opts.retryUnresolvedMs ?? 1000;
    this.nowMs = opts.nowMs ?? (() => performance.now());
  }

  /** Number of cached pids. */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets every pid not in `livePids` (call once per tick with the snapshot's pids). */
  retainOnly(livePids: Iterable<number>): void {
    const live = new Set(livePids);
    for (const pid of this.entries.keys()) if (!live.has(pid)) this.entries.delete(pid);
  }

  /** Per-tick convenience: prune to this snapshot's pids and return the lookup for sumGpuByTarget. */
  update(processes: readonly GpuProcess[]): (pid: number) => string | null {
    this.retainOnly(processes.map((p) => p.pid));
    return this.targetOf;
  }

  private lookup(pid: number): string | null {
    const now = this.nowMs();
    const cached = this.entries.get(pid);
    if (cached && (cached.target !== null || now - cached.readAtMs < this.retryUnresolvedMs)) return cached.target;
    let target: string | null = null;
    try {
      target = this.resolve(readProcCgroup(pid, this.procRoot));
    } catch {
      // Gone already, or a pid from another namespace: unknown, retried later.
    }
    this.entries.set(pid, { target, readAtMs: now });
    return target;
  }
}
