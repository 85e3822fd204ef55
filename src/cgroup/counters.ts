// A target's CPU and memory counters, read at every tick through counter-file.ts (one pread per file).
//
// Kernel facts, per hierarchy (Documentation/admin-guide/cgroup-v1/cpuacct.rst, memory.rst;
// Documentation/admin-guide/cgroup-v2.rst):
// - CPU: v1 `cpuacct.usage` is the group's CPU time in ns, its own and its descendants'; v2 `cpu.stat`
//   `usage_usec` the same in µs, kept for every cgroup whether or not the cpu controller is enabled
//   (Linux 4.15+; before it, cpu.stat existed only with the controller).
// - Memory: v1 `memory.usage_in_bytes` (a fuzzed figure, per memory.rst §5.5) and `memory.stat`
//   `total_inactive_file` (hierarchical); v2 `memory.current` and `memory.stat` `inactive_file`
//   (Linux 4.5+). The working set is usage minus inactive file cache, as docker stats and cAdvisor
//   define it.
import { join } from 'node:path';
import { CounterFile, keyedNumber, soleNumber, unreadableText, type ReadFailure } from '../counter-file.js';
import type { CgroupPaths, CgroupReading } from './types.js';

const BYTES_PER_MIB = 1024 * 1024;

/** Value of `key` in a "key value\n" file (memory.stat, cpu.stat), or null. */
export function statField(text: string, key: string): number | null {
  let at = text.startsWith(key + ' ') ? 0 : text.indexOf('\n' + key + ' ');
  if (at < 0) return null;
  if (!text.startsWith(key + ' ')) at += 1; // past the newline (at 0 too: a text that starts with one)
  const end = text.indexOf('\n', at);
  const v = Number(text.slice(at + key.length + 1, end < 0 ? undefined : end));
  return Number.isFinite(v) ? v : null;
}

/** Parses v1 cpuacct.usage (ns) or v2 cpu.stat usage_usec into seconds. */
export function parseCpuSeconds(version: 1 | 2, text: string): number | null {
  if (version === 1) {
    const ns = Number(text.trim());
    return text.trim() !== '' && Number.isFinite(ns) ? ns / 1e9 : null;
  }
  const usec = statField(text, 'usage_usec');
  return usec === null ? null : usec / 1e6;
}

/**
 * Working set as docker stats / cAdvisor define it: usage minus inactive file cache.
 * v1: memory.usage_in_bytes − total_inactive_file; v2: memory.current − inactive_file.
 */
export function parseWorkingSetMiB(version: 1 | 2, usageText: string, statText: string): number | null {
  const usage = Number(usageText.trim());
  if (usageText.trim() === '' || !Number.isFinite(usage)) return null;
  const inactive = statField(statText, version === 1 ? 'total_inactive_file' : 'inactive_file') ?? 0;
  return Math.max(0, usage - inactive) / BYTES_PER_MIB;
}

/** The key each file's figure is under, as keyedNumber's needle. */
const USAGE_USEC = Buffer.from('\nusage_usec ', 'latin1');
const INACTIVE_FILE: Record<1 | 2, Buffer> = { 1: Buffer.from('\ntotal_inactive_file ', 'latin1'), 2: Buffer.from('\ninactive_file ', 'latin1') };

/** parseCpuSeconds of a counter file's bytes [0, n), to the bit, without a string (the tick's path). */
export function cpuSecondsOfBytes(version: 1 | 2, buf: Buffer, n: number): number | null {
  if (version === 1) {
    const ns = soleNumber(buf, n);
    return ns !== null && Number.isFinite(ns) ? ns / 1e9 : null;
  }
  const usec = keyedNumber(buf, n, USAGE_USEC);
  return usec === null || !Number.isFinite(usec) ? null : usec / 1e6;
}

/** parseWorkingSetMiB of the two files' bytes, to the bit, without a string (the tick's path). */
export function workingSetMiBOfBytes(version: 1 | 2, usage: Buffer, usageBytes: number, stat: Buffer, statBytes: number): number | null {
  const used = soleNumber(usage, usageBytes);
  if (used === null || !Number.isFinite(used)) return null;
  const found = keyedNumber(stat, statBytes, INACTIVE_FILE[version]);
  const inactive = found !== null && Number.isFinite(found) ? found : 0;
  return Math.max(0, used - inactive) / BYTES_PER_MIB;
}

export interface CgroupReaderOptions {
  /**
   * Whether the target still lives. A read that fails once the target is gone is the normal end
   * (Docker removes the cgroup right after the last process exits); one that fails while it lives
   * is an unreadable counter. Default: always alive (profile's own cgroup outlives its command).
   */
  alive?: () => boolean;
}

/** Reads one target's counters; owns its file descriptors until close(). */
export class CgroupReader {
  private readonly cpu: CounterFile;
  private readonly memUsage: CounterFile | null;
  private readonly memStat: CounterFile | null;
  private readonly alive: () => boolean;
  /** What failed in the read under way (empty between reads). */
  private failures: ReadFailure[] = [];

  constructor(readonly paths: CgroupPaths, opts: CgroupReaderOptions = {}) {
    const small = Buffer.allocUnsafe(512);
    this.cpu = new CounterFile(join(paths.cpu.dir, paths.cpu.version === 1 ? 'cpuacct.usage' : 'cpu.stat'), small);
    const mem = paths.memory;
    this.memUsage = mem ? new CounterFile(join(mem.dir, mem.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'), Buffer.allocUnsafe(64)) : null;
    this.memStat = mem ? new CounterFile(join(mem.dir, 'memory.stat'), Buffer.allocUnsafe(8192)) : null;
    this.alive = opts.alive ?? (() => true);
  }

  read(): CgroupReading {
    const cpuBytes = this.bytes(this.cpu);
    const cpuSeconds = cpuBytes === null ? null : cpuSecondsOfBytes(this.paths.cpu.version, this.cpu.bytes, cpuBytes);
    let ramMiB: number | null = null;
    if (this.paths.memory && this.memUsage && this.memStat) {
      const usage = this.bytes(this.memUsage);
      const stat = usage === null ? null : this.bytes(this.memStat);
      if (usage !== null && stat !== null) ramMiB = workingSetMiBOfBytes(this.paths.memory.version, this.memUsage.bytes, usage, this.memStat.bytes, stat);
    }
    if (this.failures.length === 0) return { cpuSeconds, ramMiB };
    const failures = this.failures;
    this.failures = [];
    // Asked only after a failure, so a healthy tick costs no extra syscall.
    if (!this.alive()) return { cpuSeconds: null, ramMiB: null, gone: true };
    return { cpuSeconds, ramMiB, unreadable: failures.map(unreadableText) };
  }

  /** The file's length, or null with its failure noted for this read (no closure or array per read: the tick's path). */
  private bytes(f: CounterFile): number | null {
    const r = f.readBytes();
    if (typeof r === 'number') return r;
    this.failures.push(r);
    return null;
  }

  close(): void {
    this.cpu.close();
    this.memUsage?.close();
    this.memStat?.close();
  }
}
