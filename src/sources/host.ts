// Host-wide counters: /proc/stat CPU times and /proc/meminfo, read every tick for node panels and the
// official-compatible formulas (which were host-wide).
import type { HostCpuTimes } from '../core/types.js';
import { CounterFile, unreadableText, type ReadFailure } from '../counter-file.js';
import type { HostReading } from './types.js';

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture we run on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_SECOND = 100;
const KIB_PER_MIB = 1024;

/** The aggregate "cpu " line of /proc/stat, in seconds. */
export function parseProcStatCpu(text: string): HostCpuTimes {
  const end = text.indexOf('\n');
  const f = text.slice(0, end < 0 ? undefined : end).trim().split(/\s+/).slice(1).map(Number);
  const s = (i: number): number => (f[i] ?? 0) / CLOCK_TICKS_PER_SECOND;
  return {
    userSeconds: s(0),
    niceSeconds: s(1),
    systemSeconds: s(2),
    idleSeconds: s(3),
    iowaitSeconds: s(4),
    irqSeconds: s(5),
    softirqSeconds: s(6),
    stealSeconds: s(7),
  };
}

/** Online CPUs: the per-CPU "cpuN" lines of /proc/stat (offline CPUs are not listed). */
export function countOnlineCpus(procStatText: string): number {
  const m = procStatText.match(/^cpu\d+ /gm);
  return m ? m.length : 1;
}

function meminfoKiB(text: string, key: string): number {
  const at = text.indexOf(key + ':');
  if (at < 0) return 0;
  return parseInt(text.slice(at + key.length + 1, text.indexOf('\n', at)), 10) || 0;
}

/**
 * Host memory as psutil's virtual_memory() reports it (what the official scripts read):
 * used = total − free − buffers − cached, where cached includes SReclaimable; total − free if that is negative.
 */
export function parseMeminfo(text: string): { memUsedMiB: number; memTotalMiB: number } {
  const total = meminfoKiB(text, 'MemTotal');
  const free = meminfoKiB(text, 'MemFree');
  const cached = meminfoKiB(text, 'Cached') + meminfoKiB(text, 'SReclaimable');
  let used = total - free - meminfoKiB(text, 'Buffers') - cached;
  if (used < 0) used = total - free;
  return { memUsedMiB: used / KIB_PER_MIB, memTotalMiB: total / KIB_PER_MIB };
}

/**
 * Reads the host counters with kept-open descriptors. A failed read gives null (no node sample: unknown,
 * never zeros) and `failure` says which file and errno; the next read opens the files again.
 */
export class HostSource {
  private statFile: CounterFile;
  private memFile: CounterFile;
  private readonly buf = Buffer.allocUnsafe(65536);
  readonly onlineCpus: number;
  /** `counter-unreadable: <path>: <errno>` of the last read, null when it succeeded. */
  failure: string | null = null;

  /** Throws when /proc/stat cannot be read at all: without the CPU count no run can be normalised. */
  constructor(procRoot = '/proc') {
    this.statFile = new CounterFile(`${procRoot}/stat`, this.buf);
    this.memFile = new CounterFile(`${procRoot}/meminfo`, this.buf);
    const all = this.statFile.read();
    if (typeof all !== 'string') throw new Error(`cannot read ${all.path}: ${all.code}`);
    this.onlineCpus = countOnlineCpus(all);
  }

  read(): HostReading | null {
    // Only the first line of /proc/stat is needed; a short read keeps the cost flat on many-core hosts.
    const stat = this.statFile.read(256);
    if (typeof stat !== 'string') return this.fail(stat);
    const cpu = parseProcStatCpu(stat);
    const mem = this.memFile.read();
    if (typeof mem !== 'string') return this.fail(mem);
    this.failure = null;
    return { cpu, ...parseMeminfo(mem) };
  }

  private fail(f: ReadFailure): null {
    this.failure = `counter-unreadable: ${unreadableText(f)}`;
    return null;
  }

  close(): void {
    this.statFile.close();
    this.memFile.close();
  }
}
