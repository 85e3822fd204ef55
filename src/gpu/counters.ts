// Per-GPU figures no sampler can give (docs/gpu-accounting.md): NVML's per-process accounting records,
// the board's energy counter and its power draw. Read at a run's start and end (power: per tick, only
// where the energy counter is missing), never on the hot path of every sample.
import { NVML_ERROR_INSUFFICIENT_SIZE, NVML_ERROR_NOT_SUPPORTED, nvmlCodeName } from './nvml-errors.js';
import type { NvmlCounterFns, NvmlDeviceHandle } from './nvml-lib.js';

const NVML_ERROR_NOT_FOUND = 6;
const BYTES_PER_MIB = 1048576;
/**
 * sizeof(nvmlAccountingStats_t) on x86-64: u32 gpuUtilization @0, u32 memoryUtilization @4,
 * u64 maxMemoryUsage @8 (already 8-aligned, no padding), u64 time @16, u64 startTime @24,
 * u32 isRunning @32, u32 reserved[5] @36..55 → 36 + 20 = 56, a multiple of 8 so no tail padding.
 */
export const ACCOUNTING_STATS_BYTES = 56;
const MAX_GROW_RETRIES = 5;

/** One process's accounting record, decoded. */
export interface AccountingStats {
  pid: number;
  gpuIndex: number;
  /** Most memory the process ever had allocated (MiB); null = NVML_VALUE_NOT_AVAILABLE (unknown, not 0). */
  maxMiB: number | null;
  /** Lifetime of the process's GPU context (s). */
  gpuTimeSeconds: number;
  /** CPU timestamp of the process's start (µs since the epoch). */
  startTimeUs: number;
  running: boolean;
  /** Average utilisation over the process's life (%). */
  gpuUtilPct: number;
  memUtilPct: number;
}

/**
 * What reading one pid's record gave: the record; 'not-found' when the driver has none (the pid fell
 * out of the circular buffer, or never ran on this GPU): unknown, never 0; 'unsupported'; or an error.
 */
export type AccountingRead =
  | { kind: 'ok'; stats: AccountingStats }
  | { kind: 'not-found' }
  | { kind: 'unsupported' }
  | { kind: 'error'; reason: string };

export type AccountingMode = 'on' | 'off' | 'unsupported' | 'unknown';

/** The counters one GPU source can read; the NVML source has them, nvidia-smi and none do not. */
export interface GpuCounters {
  accountingMode(gpuIndex: number): AccountingMode;
  /** Records the driver keeps per GPU before overwriting the oldest; null: unknown. */
  accountingBufferSize(gpuIndex: number): number | null;
  /** Pids with a record on this GPU (running or gone), oldest first; null: unknown. */
  accountingPids(gpuIndex: number): number[] | null;
  accountingStats(gpuIndex: number, pid: number): AccountingRead;
  /** Energy counter (mJ since the driver loaded); null: not supported or failed. */
  energyMj(gpuIndex: number): number | null;
  /** Power draw now (mW); null: not supported or failed. */
  powerMw(gpuIndex: number): number | null;
  /** Driver version ("550.54.15") and the CUDA version it supports ("12.4"); null: unknown. */
  driverVersion(): string | null;
  cudaDriverVersion(): string | null;
  persistenceMode(gpuIndex: number): AccountingMode;
}

/** Decodes an nvmlAccountingStats_t (x86-64 layout above). Pure. */
export function decodeAccountingStats(buf: Buffer, gpuIndex: number, pid: number): AccountingStats {
  const lo = buf.readUInt32LE(8);
  const hi = buf.readUInt32LE(12);
  const notAvailable = lo === 0xffffffff && hi === 0xffffffff;
  return {
    pid,
    gpuIndex,
    maxMiB: notAvailable ? null : (hi * 4294967296 + lo) / BYTES_PER_MIB,
    gpuTimeSeconds: Number(buf.readBigUInt64LE(16)) / 1000,
    startTimeUs: Number(buf.readBigUInt64LE(24)),
    running: buf.readUInt32LE(32) !== 0,
    gpuUtilPct: buf.readUInt32LE(0),
    memUtilPct: buf.readUInt32LE(4),
  };
}

export class NvmlCounters implements GpuCounters {
  private readonly u32 = Buffer.alloc(4);
  private readonly u64 = Buffer.alloc(8);
  private readonly stats = Buffer.alloc(ACCOUNTING_STATS_BYTES);
  private pidBuf = Buffer.alloc(0);
  private readonly countBuf = Buffer.alloc(4);

  constructor(
    private readonly fns: NvmlCounterFns,
    /** Device handle per GPU index; a getter, so handles re-fetched after a re-init are seen. */
    private readonly handleOf: (gpuIndex: number) => NvmlDeviceHandle | null,
  ) {}

  accountingMode(gpuIndex: number): AccountingMode {
    const h = this.handleOf(gpuIndex);
    if (!this.fns.getAccountingMode || h === null) return 'unsupported';
    const code = this.fns.getAccountingMode(h, this.u32);
    if (code === 0) return this.u32.readUInt32LE(0) === 1 ? 'on' : 'off';
    return code === NVML_ERROR_NOT_SUPPORTED ? 'unsupported' : 'unknown';
  }

  accountingBufferSize(gpuIndex: number): number | null {
    const h = this.handleOf(gpuIndex);
    if (!this.fns.getAccountingBufferSize || h === null) return null;
    return this.fns.getAccountingBufferSize(h, this.u32) === 0 ? this.u32.readUInt32LE(0) : null;
  }

  accountingPids(gpuIndex: number): number[] | null {
    const h = this.handleOf(gpuIndex);
    const fn = this.fns.getAccountingPids;
    if (!fn || h === null) return null;
    for (let grows = 0; grows <= MAX_GROW_RETRIES; grows++) {
      const capacity = Math.floor(this.pidBuf.length / 4);
      this.countBuf.writeUInt32LE(capacity, 0);
      const code = fn(h, this.countBuf, capacity > 0 ? this.pidBuf : null);
      const count = this.countBuf.readUInt32LE(0);
      if (code === 0) {
        const pids: number[] = [];
        for (let k = 0; k < Math.min(count, capacity); k++) pids.push(this.pidBuf.readUInt32LE(k * 4));
        return pids;
      }
      if (code !== NVML_ERROR_INSUFFICIENT_SIZE) return null;
      this.pidBuf = Buffer.alloc((2 * Math.max(count, capacity) + 5) * 4);
    }
    return null;
  }

  accountingStats(gpuIndex: number, pid: number): AccountingRead {
    const h = this.handleOf(gpuIndex);
    if (!this.fns.getAccountingStats || h === null) return { kind: 'unsupported' };
    this.stats.fill(0);
    const code = this.fns.getAccountingStats(h, pid, this.stats);
    if (code === 0) return { kind: 'ok', stats: decodeAccountingStats(this.stats, gpuIndex, pid) };
    if (code === NVML_ERROR_NOT_FOUND) return { kind: 'not-found' };
    if (code === NVML_ERROR_NOT_SUPPORTED) return { kind: 'unsupported' };
    return { kind: 'error', reason: `nvmlDeviceGetAccountingStats: NVML_ERROR_${nvmlCodeName(code)}` };
  }

  energyMj(gpuIndex: number): number | null {
    const h = this.handleOf(gpuIndex);
    if (!this.fns.getTotalEnergyConsumption || h === null) return null;
    return this.fns.getTotalEnergyConsumption(h, this.u64) === 0 ? Number(this.u64.readBigUInt64LE(0)) : null;
  }

  driverVersion(): string | null {
    const buf = Buffer.alloc(96);
    if (!this.fns.getDriverVersion || this.fns.getDriverVersion(buf, buf.length) !== 0) return null;
    const end = buf.indexOf(0);
    return buf.toString('utf8', 0, end < 0 ? buf.length : end);
  }

  cudaDriverVersion(): string | null {
    if (!this.fns.getCudaDriverVersion || this.fns.getCudaDriverVersion(this.u32) !== 0) return null;
    const v = this.u32.readInt32LE(0);
    return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
  }

  persistenceMode(gpuIndex: number): AccountingMode {
    const h = this.handleOf(gpuIndex);
    if (!this.fns.getPersistenceMode || h === null) return 'unsupported';
    const code = this.fns.getPersistenceMode(h, this.u32);
    if (code === 0) return this.u32.readUInt32LE(0) === 1 ? 'on' : 'off';
    return code === NVML_ERROR_NOT_SUPPORTED ? 'unsupported' : 'unknown';
  }

  powerMw(gpuIndex: number): number | null {
    const h = this.handleOf(gpuIndex);
    if (!this.fns.getPowerUsage || h === null) return null;
    return this.fns.getPowerUsage(h, this.u32) === 0 ? this.u32.readUInt32LE(0) : null;
  }
}
