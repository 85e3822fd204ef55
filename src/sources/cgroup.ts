// cgroup CPU and memory counters for one target, read on every tick.
// Files are opened once and re-read with pread at offset 0 (kernfs regenerates the content on each read),
// so a tick costs one syscall per file instead of open/read/close.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupPaths, CgroupReading } from './types.js';

const BYTES_PER_MIB = 1024 * 1024;

/** A kernel pseudo-file kept open and re-read from the start. */
class CounterFile {
  private fd: number | null = null;
  private failed = false;
  constructor(readonly path: string, private readonly buf: Buffer) {}

  read(): string | null {
    if (this.failed) return null;
    try {
      this.fd ??= openSync(this.path, 'r');
      const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
      return this.buf.toString('latin1', 0, n);
    } catch {
      // The cgroup was removed (ENODEV/ENOENT): stop trying, the run is ending.
      this.failed = true;
      this.close();
      return null;
    }
  }

  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already gone */
      }
      this.fd = null;
    }
  }
}

/** Value of `key` in a "key value\n" file (memory.stat, cpu.stat), or null. */
export function statField(text: string, key: string): number | null {
  let at = text.startsWith(key + ' ') ? 0 : text.indexOf('\n' + key + ' ');
  if (at < 0) return null;
  if (at > 0) at += 1;
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

/** Reads one target's counters; owns its file descriptors until close(). */
export class CgroupReader {
  private readonly cpu: CounterFile;
  private readonly memUsage: CounterFile | null;
  private readonly memStat: CounterFile | null;

  constructor(readonly paths: CgroupPaths) {
    const small = Buffer.allocUnsafe(512);
    this.cpu = new CounterFile(join(paths.cpu.dir, paths.cpu.version === 1 ? 'cpuacct.usage' : 'cpu.stat'), small);
    const mem = paths.memory;
    this.memUsage = mem ? new CounterFile(join(mem.dir, mem.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'), Buffer.allocUnsafe(64)) : null;
    this.memStat = mem ? new CounterFile(join(mem.dir, 'memory.stat'), Buffer.allocUnsafe(8192)) : null;
  }

  read(): CgroupReading {
    const cpuText = this.cpu.read();
    const cpuSeconds = cpuText === null ? null : parseCpuSeconds(this.paths.cpu.version, cpuText);
    let ramMiB: number | null = null;
    if (this.paths.memory && this.memUsage && this.memStat) {
      const usage = this.memUsage.read();
      const stat = this.memStat.read();
      if (usage !== null && stat !== null) ramMiB = parseWorkingSetMiB(this.paths.memory.version, usage, stat);
    }
    return { cpuSeconds, ramMiB };
  }

  close(): void {
    this.cpu.close();
    this.memUsage?.close();
    this.memStat?.close();
  }
}
