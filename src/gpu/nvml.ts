// GPU memory through NVML: one NVML session for the agent's life, per-device buffers allocated once,
// a synchronous sample() of a few native calls per GPU (no process spawned, nothing parsed).
import type { GpuDevice, GpuDeviceSample, GpuProcess, MigDeviceSample } from '../core/types.js';
import type { SourceStatus } from '../sources/types.js';
import type { GpuSnapshot, GpuSource, MigDevice } from './types.js';
import { discoverMig, migKey, NO_MIG_INSTANCE, type MigState } from './nvml-mig.js';
import {
  NVML_ERROR_ARGUMENT_VERSION_MISMATCH,
  NVML_ERROR_FUNCTION_NOT_FOUND,
  NVML_ERROR_GPU_IS_LOST,
  NVML_ERROR_UNINITIALIZED,
  NVML_ERROR_INSUFFICIENT_SIZE,
  NVML_ERROR_NOT_SUPPORTED,
  NvmlError,
} from './nvml-errors.js';
import { loadNvmlLib, type NvmlDeviceHandle, type NvmlLib } from './nvml-lib.js';
import { NvmlCounters, type GpuCounters } from './counters.js';

export { NvmlError } from './nvml-errors.js';

export interface NvmlSourceOptions {
  /** dlopen name or path of the library (default 'libnvidia-ml.so.1'). */
  libPath: string;
}

const BYTES_PER_MIB = 1048576;
const MEMORY_V2_VERSION = 0x02000028; // sizeof(nvmlMemory_v2_t) | 2 << 24
const STRING_BUFFER_BYTES = 96; // NVML_DEVICE_UUID_V2_BUFFER_SIZE and NVML_DEVICE_NAME_V2_BUFFER_SIZE
const MAX_GROW_RETRIES = 5;
/** pid values that only appear when entries are decoded with the wrong size (docs/measurement.md §6). */
const IMPLAUSIBLE_PIDS = new Set([0, 0xffffffff]);

/** A u64 at `offset` in MiB; null for NVML_VALUE_NOT_AVAILABLE (all ones). Read as two u32 to avoid BigInt. */
function u64MiB(buf: Buffer, offset: number): number | null {
  const lo = buf.readUInt32LE(offset);
  const hi = buf.readUInt32LE(offset + 4);
  if (lo === 0xffffffff && hi === 0xffffffff) return null;
  return (hi * 4294967296 + lo) / BYTES_PER_MIB;
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

/** Calls an NVML function that must succeed (setup path) and turns a failure into an NvmlError. */
function check(lib: NvmlLib, symbol: string, code: number): void {
  if (code !== 0) throw new NvmlError(code, symbol, lib.errorString(code));
}

interface DeviceState {
  readonly info: GpuDevice;
  /** Re-fetched (by UUID) when NVML is re-initialised after a GPU reset. */
  handle: NvmlDeviceHandle;
  readonly memBuf: Buffer;
  readonly utilBuf: Buffer;
  /** Grows when the process list does not fit; never shrinks. */
  procBuf: Buffer;
  utilSupported: boolean;
}

/** What a memory read needs: a GPU's or a MIG device's handle and buffer, and the GPU's index. */
type MemoryTarget = Pick<DeviceState, 'handle' | 'memBuf'> & { readonly info: { index: number } };

/** Least time between two MIG discoveries when a process names an instance the agent does not know. */
const MIG_REDISCOVER_MS = 1000;

/** Least time between two attempts to re-initialise NVML after GPU_IS_LOST / UNINITIALIZED. */
const RECOVER_EVERY_MS = 1000;

/** Least time between two reads of a GPU's energy counter for /metrics (the counter itself ticks every ~20–100 ms). */
const ENERGY_REFRESH_MS = 1000;

class NvmlGpuSource implements GpuSource {
  readonly name = 'nvml' as const;
  private readonly countBuf = Buffer.alloc(4);
  private memIndex = 0;
  private procIndex = 0;
  // Once an entry point has worked, later failures are errors, not a reason to fall back.
  private memConfirmed = false;
  private procConfirmed = false;
  private current: SourceStatus = { up: true };
  private failure: string | null = null;
  /** The first NVML error of the current sample, for openNvmlSource to rethrow. */
  firstError: NvmlError | null = null;
  private closed = false;
  private lastRecoverMs = -Infinity;
  /** Times NVML was re-initialised and its handles re-fetched (recovery after a GPU reset). */
  recoveries = 0;
  /** Accounting, energy and power of the same GPUs, through the same NVML session. */
  readonly counters: GpuCounters;
  /** Per GPU index: last energy reading (mJ) and when (performance.now ms); false once NOT_SUPPORTED. */
  private readonly energy = new Map<number, { mj: number | null; atMs: number } | false>();
  private migs: MigState[] = [];
  /** migKey(gpu, gpuInstanceId, computeInstanceId) → MIG UUID. */
  private migByKey = new Map<string, string>();
  private migUnknownSeen = false;
  private lastMigDiscoveryMs = -Infinity;

  constructor(
    private readonly lib: NvmlLib,
    private readonly devs: DeviceState[],
  ) {
    this.counters = new NvmlCounters(lib.counters, (i) => (this.closed ? null : (this.devs.find((d) => d.info.index === i)?.handle ?? null)));
  }

  devices(): GpuDevice[] {
    return this.devs.map((d) => ({ ...d.info }));
  }

  migDevices(): MigDevice[] {
    return this.migs.map(({ info: { index: _index, ...m } }) => ({ ...m }));
  }

  /** (Re)discovers the MIG devices of every GPU with MIG on, and their sizes. */
  discoverMig(): void {
    this.lastMigDiscoveryMs = performance.now();
    this.migUnknownSeen = false;
    this.migs = discoverMig(this.lib, this.devs.map((d) => ({ index: d.info.index, handle: d.handle })));
    this.migByKey = new Map(this.migs.map((m) => [migKey(m.info.parentIndex, m.info.gpuInstanceId, m.info.computeInstanceId), m.info.uuid]));
    for (const m of this.migs) {
      const mem = this.readMemory(m);
      if (mem?.totalMiB != null) (m.info as { totalMiB: number }).totalMiB = mem.totalMiB;
    }
    this.failure = null; // a MIG device that cannot be sized is not a fault of the GPU source
    this.firstError = null;
  }

  status(): SourceStatus {
    return this.current;
  }

  sample(): GpuSnapshot {
    const devices: GpuDeviceSample[] = [];
    const processes: GpuProcess[] = [];
    let mig: MigDeviceSample[] | undefined;
    if (this.closed) return { devices, processes };
    this.failure = null;
    this.firstError = null;
    try {
      for (const d of this.devs) {
        const mem = this.readMemory(d);
        const energyMj = this.readEnergy(d.info.index);
        devices.push({
          index: d.info.index,
          uuid: d.info.uuid,
          usedMiB: mem ? mem.usedMiB : null,
          totalMiB: mem ? mem.totalMiB : null,
          utilPct: this.readUtilization(d),
          // Only on GPUs with an energy counter: the field is optional (not stored, /metrics only).
          ...(energyMj === null ? {} : { energyMj }),
        });
        this.readProcesses(d, processes);
      }
      if (this.migs.length > 0) mig = this.readMig();
    } catch (err) {
      this.failure ??= `NVML binding error: ${(err as Error).message}`;
    }
    const code = (this.firstError as NvmlError | null)?.code; // set by fail() during the reads above
    const lost = code === NVML_ERROR_GPU_IS_LOST || code === NVML_ERROR_UNINITIALIZED;
    if (lost && this.recover()) return this.sample();
    this.setStatus(this.failure);
    // A process in a MIG instance not seen at discovery: the layout changed; look again (rate-limited).
    if (this.migUnknownSeen && performance.now() - this.lastMigDiscoveryMs >= MIG_REDISCOVER_MS) this.discoverMig();
    return mig ? { devices, processes, mig } : { devices, processes };
  }

  private readMig(): MigDeviceSample[] {
    return this.migs.map((m) => {
      const mem = this.readMemory(m);
      return { uuid: m.info.uuid, parentIndex: m.info.parentIndex, usedMiB: mem ? mem.usedMiB : null, totalMiB: mem ? mem.totalMiB : null };
    });
  }

  /**
   * After a GPU reset the old handles answer GPU_IS_LOST (or the session UNINITIALIZED): shut NVML
   * down, initialise it again and re-fetch each device's handle by its UUID (indices may change).
   * At most once per RECOVER_EVERY_MS; true when every device has a handle again.
   */
  private recover(): boolean {
    const now = performance.now();
    if (now - this.lastRecoverMs < RECOVER_EVERY_MS) return false;
    this.lastRecoverMs = now;
    this.lib.shutdown();
    if (this.lib.init() !== 0) return false;
    const byUuid = new Map<string, NvmlDeviceHandle>();
    const handleBuf = Buffer.alloc(8);
    const strBuf = Buffer.alloc(STRING_BUFFER_BYTES);
    if (this.lib.getCount(this.countBuf) !== 0) return false;
    for (let i = 0; i < this.countBuf.readUInt32LE(0); i++) {
      if (this.lib.getHandleByIndex(i, handleBuf) !== 0) continue;
      const handle = handleBuf.readBigUInt64LE(0);
      strBuf.fill(0);
      if (this.lib.getUuid(handle, strBuf, strBuf.length) === 0) byUuid.set(cString(strBuf), handle);
    }
    let all = true;
    for (const d of this.devs) {
      const h = byUuid.get(d.info.uuid);
      if (h === undefined) all = false;
      else d.handle = h;
    }
    if (all) {
      this.recoveries++;
      this.discoverMig(); // MIG handles are re-fetched with their GPUs'
    }
    return all;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.shutdown();
    this.current = { up: false, reason: 'closed' };
  }

  private setStatus(failure: string | null): void {
    if (failure === null) {
      if (!this.current.up) this.current = { up: true };
    } else if (this.current.up || this.current.reason !== failure) {
      this.current = { up: false, reason: failure };
    }
  }

  private fail(symbol: string, d: MemoryTarget, code: number): void {
    if (this.failure !== null) return;
    this.firstError = new NvmlError(code, symbol, this.lib.errorString(code));
    this.failure = `GPU ${d.info.index}: ${this.firstError.message}`;
  }

  readMemory(d: MemoryTarget): { usedMiB: number | null; totalMiB: number | null } | null {
    for (;;) {
      const entry = this.lib.memory[this.memIndex];
      if (entry.structVersion === 2) d.memBuf.writeUInt32LE(MEMORY_V2_VERSION, 0);
      const code = entry.call(d.handle, d.memBuf);
      if (code === 0) {
        this.memConfirmed = true;
        // v2: total@8, used@32; v1: total@0, used@16.
        return entry.structVersion === 2
          ? { totalMiB: u64MiB(d.memBuf, 8), usedMiB: u64MiB(d.memBuf, 32) }
          : { totalMiB: u64MiB(d.memBuf, 0), usedMiB: u64MiB(d.memBuf, 16) };
      }
      const fallback =
        code === NVML_ERROR_ARGUMENT_VERSION_MISMATCH || code === NVML_ERROR_FUNCTION_NOT_FOUND || code === NVML_ERROR_NOT_SUPPORTED;
      if (fallback && !this.memConfirmed && this.memIndex < this.lib.memory.length - 1) {
        this.memIndex++;
        continue;
      }
      this.fail(entry.symbol, d, code);
      return null;
    }
  }

  /** The energy counter for /metrics, at most once per ENERGY_REFRESH_MS per GPU; null when unsupported. */
  private readEnergy(index: number): number | null {
    const last = this.energy.get(index);
    if (last === false) return null;
    const now = performance.now();
    if (last && now - last.atMs < ENERGY_REFRESH_MS) return last.mj;
    const mj = this.counters.energyMj(index);
    // The first read failed (pre-Volta NOT_SUPPORTED, or no symbol): stop asking for /metrics.
    this.energy.set(index, mj === null && !last ? false : { mj, atMs: now });
    return mj;
  }

  private readUtilization(d: DeviceState): number | null {
    if (!d.utilSupported) return null;
    const code = this.lib.getUtilization(d.handle, d.utilBuf);
    if (code === 0) return d.utilBuf.readUInt32LE(0);
    // MIG instances and some boards never support it: stop asking, it is not a fault.
    if (code === NVML_ERROR_NOT_SUPPORTED) d.utilSupported = false;
    else this.fail('nvmlDeviceGetUtilizationRates', d, code);
    return null;
  }

  /** Appends this device's compute processes to `out`; false (and a recorded failure) if the list is unknown. */
  private readProcesses(d: DeviceState, out: GpuProcess[]): boolean {
    for (let grows = 0; ; ) {
      const entry = this.lib.processes[this.procIndex];
      const capacity = Math.floor(d.procBuf.length / entry.entryBytes);
      // capacity 0 on the first tick: the count=0 probe of the two-call convention.
      this.countBuf.writeUInt32LE(capacity, 0);
      const code = entry.call(d.handle, this.countBuf, capacity > 0 ? d.procBuf : null);
      const count = this.countBuf.readUInt32LE(0);
      if (code === 0) {
        this.procConfirmed = true;
        this.decodeProcesses(d, entry.symbol, entry.entryBytes, Math.min(count, capacity), out);
        return true;
      }
      if (code === NVML_ERROR_INSUFFICIENT_SIZE && grows < MAX_GROW_RETRIES) {
        // Slack because the list changes between the two calls.
        d.procBuf = Buffer.alloc((2 * Math.max(count, capacity) + 5) * entry.entryBytes);
        grows++;
        continue;
      }
      const fallback = code === NVML_ERROR_FUNCTION_NOT_FOUND || code === NVML_ERROR_NOT_SUPPORTED;
      if (fallback && !this.procConfirmed && this.procIndex < this.lib.processes.length - 1) {
        this.procIndex++;
        continue;
      }
      this.fail(entry.symbol, d, code);
      return false;
    }
  }

  private decodeProcesses(d: DeviceState, symbol: string, entryBytes: number, count: number, out: GpuProcess[]): void {
    const buf = d.procBuf;
    for (let k = 0; k < count; k++) {
      const offset = k * entryBytes;
      const pid = buf.readUInt32LE(offset);
      const usedMiB = u64MiB(buf, offset + 8);
      if (IMPLAUSIBLE_PIDS.has(pid) || (usedMiB !== null && usedMiB > d.info.totalMiB * 1.01)) {
        // A wrong entry size shows exactly like this; surface it instead of attributing garbage.
        this.failure ??= `GPU ${d.info.index}: implausible entry from ${symbol} (pid ${pid}, ${usedMiB} MiB; ${entryBytes}-byte entries): driver entry size mismatch?`;
        continue;
      }
      // Entries of 24 and 32 bytes carry the MIG instance ids at @16 and @20 (docs/measurement.md §6).
      const gi = entryBytes >= 24 ? buf.readUInt32LE(offset + 16) : NO_MIG_INSTANCE;
      if (gi === NO_MIG_INSTANCE) out.push({ pid, gpuIndex: d.info.index, usedMiB });
      else {
        const migUuid = this.migByKey.get(migKey(d.info.index, gi, buf.readUInt32LE(offset + 20))) ?? null;
        if (migUuid === null) this.migUnknownSeen = true;
        out.push({ pid, gpuIndex: d.info.index, usedMiB, migUuid });
      }
    }
  }
}

function openDevice(lib: NvmlLib, index: number): Omit<DeviceState, 'info'> & { name: string; uuid: string } {
  const handleBuf = Buffer.alloc(8);
  check(lib, 'nvmlDeviceGetHandleByIndex_v2', lib.getHandleByIndex(index, handleBuf));
  const handle = handleBuf.readBigUInt64LE(0);
  const strBuf = Buffer.alloc(STRING_BUFFER_BYTES);
  check(lib, 'nvmlDeviceGetName', lib.getName(handle, strBuf, strBuf.length));
  const name = cString(strBuf);
  strBuf.fill(0);
  check(lib, 'nvmlDeviceGetUUID', lib.getUuid(handle, strBuf, strBuf.length));
  const uuid = cString(strBuf);
  return { handle, name, uuid, memBuf: Buffer.alloc(40), utilBuf: Buffer.alloc(8), procBuf: Buffer.alloc(0), utilSupported: true };
}

/**
 * Opens one NVML session and discovers the GPUs. Throws an NvmlError (init, count, handle, name, uuid,
 * memory) or an Error naming libPath when the library cannot be loaded or lacks required symbols.
 */
export function openNvmlSource(opts: NvmlSourceOptions): GpuSource {
  const lib = loadNvmlLib(opts.libPath);
  check(lib, 'nvmlInit_v2', lib.init());
  try {
    const countBuf = Buffer.alloc(4);
    check(lib, 'nvmlDeviceGetCount_v2', lib.getCount(countBuf));
    const devs: DeviceState[] = [];
    for (let index = 0; index < countBuf.readUInt32LE(0); index++) {
      const { name, uuid, ...state } = openDevice(lib, index);
      devs.push({ ...state, info: { index, uuid, name, totalMiB: 0 } });
    }
    const source = new NvmlGpuSource(lib, devs);
    for (const d of devs) {
      const mem = source.readMemory(d);
      if (source.firstError) throw source.firstError;
      if (!mem || mem.totalMiB === null) throw new Error(`GPU ${d.info.index}: NVML reports no total memory`);
      (d.info as { totalMiB: number }).totalMiB = mem.totalMiB;
    }
    source.discoverMig();
    return source;
  } catch (err) {
    lib.shutdown();
    throw err;
  }
}
