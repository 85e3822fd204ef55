// Host-wide counters: /proc/stat CPU times and /proc/meminfo, read every tick for node panels and the
// official-compatible formulas (which were host-wide).
import type { HostCpuTimes } from '../core/types.js';
import { CounterFile, digitsEnd, exactDecimal, NEWLINE, SPACE, unreadableText, type ReadFailure } from '../counter-file.js';
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

const CPU_FIELDS = 8;
const STAT_PREFIX = Buffer.from('cpu ', 'latin1');
/** The cpu line's fields, reused from tick to tick (the tick's path allocates no array). */
const cpuFields = new Float64Array(CPU_FIELDS);

/**
 * parseProcStatCpu of /proc/stat's bytes [0, n), to the bit, without a string, a regex or a split (the
 * tick's path): the kernel's `cpu  <n> <n> …\n` line (show_stat, fs/proc/stat.c) is read in place;
 * anything else is left to the text parser.
 */
export function procStatCpuOfBytes(buf: Buffer, n: number): HostCpuTimes {
  const f = cpuFields.fill(0); // fields the line lacks are 0, as in the text parser
  let i = STAT_PREFIX.length;
  if (n < i || buf.compare(STAT_PREFIX, 0, i, 0, i) !== 0) return parseProcStatCpu(buf.toString('latin1', 0, n));
  for (let k = 0; ; k++) {
    while (i < n && buf[i] === SPACE) i++;
    if (i >= n || buf[i] === NEWLINE) break;
    const end = digitsEnd(buf, i, n);
    const v = exactDecimal(buf, i, end);
    if (v < 0 || (end < n && buf[end] !== SPACE && buf[end] !== NEWLINE)) return parseProcStatCpu(buf.toString('latin1', 0, n));
    if (k < CPU_FIELDS) f[k] = v;
    i = end;
  }
  const s = (j: number): number => f[j] / CLOCK_TICKS_PER_SECOND;
  return { userSeconds: s(0), niceSeconds: s(1), systemSeconds: s(2), idleSeconds: s(3), iowaitSeconds: s(4), irqSeconds: s(5), softirqSeconds: s(6), stealSeconds: s(7) };
}

/** meminfoKiB of /proc/meminfo's bytes (`view`: the file's bytes; `needle`: `<key>:`), to the bit, without a string. */
function meminfoKiBOfBytes(view: Buffer, needle: Buffer, key: string): number {
  const at = view.indexOf(needle);
  if (at < 0) return 0;
  const lineEnd = view.indexOf(NEWLINE, at);
  if (lineEnd < 0) return meminfoKiB(view.toString('latin1'), key); // the text parser's edge, left to it
  let i = at + needle.length;
  while (i < lineEnd && view[i] === SPACE) i++;
  const end = digitsEnd(view, i, lineEnd);
  const v = exactDecimal(view, i, end);
  // The kernel's `Key:  <n> kB`: digits, then a space. Anything else (a sign, a tab) is parseInt's to read.
  if (v < 0 || (end < lineEnd && view[end] !== SPACE)) return meminfoKiB(view.toString('latin1'), key);
  return v;
}

const MEMINFO_KEYS = ['MemTotal', 'MemFree', 'Buffers', 'Cached', 'SReclaimable'] as const;
const MEMINFO_NEEDLES = Object.fromEntries(MEMINFO_KEYS.map((k) => [k, Buffer.from(`${k}:`, 'latin1')])) as Record<(typeof MEMINFO_KEYS)[number], Buffer>;

/** parseMeminfo of /proc/meminfo's bytes [0, n), to the bit, without a string (the tick's path). */
export function meminfoOfBytes(buf: Buffer, n: number): { memUsedMiB: number; memTotalMiB: number } {
  const view = buf.subarray(0, n); // indexOf has no end: stale bytes past n are not the file's
  const kib = (key: (typeof MEMINFO_KEYS)[number]): number => meminfoKiBOfBytes(view, MEMINFO_NEEDLES[key], key);
  return usedAndTotal(kib('MemTotal'), kib('MemFree'), kib('Buffers'), kib('Cached') + kib('SReclaimable'));
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
  return usedAndTotal(meminfoKiB(text, 'MemTotal'), meminfoKiB(text, 'MemFree'), meminfoKiB(text, 'Buffers'), meminfoKiB(text, 'Cached') + meminfoKiB(text, 'SReclaimable'));
}

function usedAndTotal(total: number, free: number, buffers: number, cached: number): { memUsedMiB: number; memTotalMiB: number } {
  let used = total - free - buffers - cached;
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
    // Only the first line of /proc/stat is needed, so only 256 bytes are copied out. The kernel still formats
    // the whole file on a read from offset 0 (show_stat, fs/proc/stat.c: every CPU's line and every IRQ's
    // count), so the read's cost grows with CPUs and IRQs whatever its length; no other file gives these times.
    const stat = this.statFile.readBytes(256);
    if (typeof stat !== 'number') return this.fail(stat);
    const cpu = procStatCpuOfBytes(this.buf, stat);
    const mem = this.memFile.readBytes();
    if (typeof mem !== 'number') return this.fail(mem);
    this.failure = null;
    const { memUsedMiB, memTotalMiB } = meminfoOfBytes(this.buf, mem);
    return { cpu, memUsedMiB, memTotalMiB };
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
