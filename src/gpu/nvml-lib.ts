// The raw NVML binding: loads libnvidia-ml through koffi and resolves each symbol on its own, because
// which versioned entry points exist depends on the driver (docs/measurement.md §6). Every pointer argument is a
// caller-owned Buffer (koffi passes its address for the call only) or a device handle as a BigInt, so a
// sample allocates nothing on the native side.
import { existsSync } from 'node:fs';
import koffi, { type LibraryHandle } from 'koffi';
import { checkRegularFile } from '../organiser-file.js';

/** An opaque nvmlDevice_t as koffi represents pointers. */
export type NvmlDeviceHandle = bigint;

type RetFn0 = () => number;
type DeviceBufFn = (device: NvmlDeviceHandle, out: Buffer) => number;
type DeviceStrFn = (device: NvmlDeviceHandle, out: Buffer, lengthBytes: number) => number;
type ProcessesFn = (device: NvmlDeviceHandle, countInOut: Buffer, infos: Buffer | null) => number;

export interface NvmlMemoryEntry {
  symbol: string;
  call: DeviceBufFn;
  /** 2: nvmlMemory_v2_t (40 bytes, version word first); 1: nvmlMemory_t (24 bytes). */
  structVersion: 1 | 2;
}

export interface NvmlProcessesEntry {
  symbol: string;
  call: ProcessesFn;
  /** Size of one process-info entry this symbol writes on this driver: 32, 24 or 16. */
  entryBytes: 16 | 24 | 32;
}

export interface NvmlLib {
  init: RetFn0;
  shutdown: RetFn0;
  errorString: (code: number) => string;
  getCount: (countOut: Buffer) => number;
  getHandleByIndex: (index: number, handleOut: Buffer) => number;
  getName: DeviceStrFn;
  getUuid: DeviceStrFn;
  getUtilization: DeviceBufFn;
  /** Memory-info entry points, preferred first (v2 where the driver has it). */
  memory: NvmlMemoryEntry[];
  /** Process-list entry points, preferred first, each with the entry size the driver writes. */
  processes: NvmlProcessesEntry[];
  /** Accounting, energy and power (docs/gpu-accounting.md); null where the library lacks the symbol. */
  counters: NvmlCounterFns;
  /** MIG discovery; null where the library lacks the symbol (drivers before R450). */
  mig: NvmlMigFns;
}

/** MIG entry points (NVML R450 and later; docs/gpu-accounting.md). */
export interface NvmlMigFns {
  /** (device, unsigned int *currentMode, unsigned int *pendingMode): 1 = enabled. */
  getMigMode: ((device: NvmlDeviceHandle, current: Buffer, pending: Buffer) => number) | null;
  /** (device, unsigned int *count): MIG device slots of this GPU. */
  getMaxMigDeviceCount: DeviceBufFn | null;
  /** (device, unsigned int index, nvmlDevice_t *migDevice): NOT_FOUND for an empty slot. */
  getMigDeviceHandleByIndex: ((device: NvmlDeviceHandle, index: number, handleOut: Buffer) => number) | null;
  /** (migDevice, unsigned int *id) */
  getGpuInstanceId: DeviceBufFn | null;
  /** (migDevice, unsigned int *id) */
  getComputeInstanceId: DeviceBufFn | null;
}

/** Optional entry points: every one may be missing from an old driver's library. */
export interface NvmlCounterFns {
  /** (device, nvmlEnableState_t *mode) */
  getAccountingMode: DeviceBufFn | null;
  /** (device, unsigned int *bufferSize) */
  getAccountingBufferSize: DeviceBufFn | null;
  /** (device, unsigned int *count, unsigned int *pids): the two-call convention of the process list. */
  getAccountingPids: ProcessesFn | null;
  /** (device, unsigned int pid, nvmlAccountingStats_t *stats) */
  getAccountingStats: ((device: NvmlDeviceHandle, pid: number, stats: Buffer) => number) | null;
  /** (device, unsigned long long *energy): mJ since the driver loaded (Volta and newer). */
  getTotalEnergyConsumption: DeviceBufFn | null;
  /** (device, unsigned int *power): mW. */
  getPowerUsage: DeviceBufFn | null;
  /** (char *version, unsigned int length): the driver version, e.g. "550.54.15". */
  getDriverVersion: ((out: Buffer, lengthBytes: number) => number) | null;
  /** (int *version): the CUDA version the driver supports, 1000 × major + 10 × minor. */
  getCudaDriverVersion: ((out: Buffer) => number) | null;
  /** (device, nvmlEnableState_t *mode) */
  getPersistenceMode: DeviceBufFn | null;
}

function hasSymbol(lib: LibraryHandle, name: string): boolean {
  try {
    lib.symbol(name);
    return true;
  } catch {
    return false;
  }
}

/** Declares a function if the library exports it; null if not (older or newer drivers drop symbols). */
function optionalFunc(lib: LibraryHandle, name: string, result: string, params: string[]) {
  return hasSymbol(lib, name) ? lib.func(name, result, params) : null;
}

/**
 * The entry-size rule (nvitop's, docs/measurement.md §6): drivers 535.43–535.104 export _v3 with 32-byte entries
 * and no version bump; they are the ones that have nvmlDeviceGetConfComputeMemSizeInfo but not
 * nvmlDeviceGetRunningProcessDetailList.
 */
export function processEntryBytesForV3(hasConfCompute: boolean, hasDetailList: boolean): 24 | 32 {
  return hasConfCompute && !hasDetailList ? 32 : 24;
}

/** Loads the library and resolves what it has. Throws an Error naming libPath if it cannot be loaded. */
export function loadNvmlLib(libPath: string): NvmlLib {
  let lib: LibraryHandle;
  try {
    // dlopen of a FIFO blocks in open(2) for ever: a path is checked to name a regular file first
    // (a bare name is the loader's to resolve, and a missing file gets the loader's own message).
    if (libPath.includes('/') && existsSync(libPath)) checkRegularFile(libPath);
    lib = koffi.load(libPath);
  } catch (err) {
    const detail = (err as Error).message.replace(/^Failed to load shared library:\s*/, '');
    throw new Error(`${libPath}: ${detail}`);
  }
  const required = (name: string, result: string, params: string[]) => {
    try {
      return lib.func(name, result, params);
    } catch {
      throw new Error(`${libPath}: does not export ${name} (not an NVML library, or a driver older than R418)`);
    }
  };
  const ptr = 'void *';
  const init = required('nvmlInit_v2', 'int', []);
  const shutdown = required('nvmlShutdown', 'int', []);
  const errorString = required('nvmlErrorString', 'const char *', ['int']);
  const getCount = required('nvmlDeviceGetCount_v2', 'int', [ptr]);
  const getHandleByIndex = required('nvmlDeviceGetHandleByIndex_v2', 'int', ['uint32_t', ptr]);
  const getName = required('nvmlDeviceGetName', 'int', [ptr, ptr, 'uint32_t']);
  const getUuid = required('nvmlDeviceGetUUID', 'int', [ptr, ptr, 'uint32_t']);
  const getUtilization = required('nvmlDeviceGetUtilizationRates', 'int', [ptr, ptr]);

  const memory: NvmlMemoryEntry[] = [];
  const memV2 = optionalFunc(lib, 'nvmlDeviceGetMemoryInfo_v2', 'int', [ptr, ptr]);
  if (memV2) memory.push({ symbol: 'nvmlDeviceGetMemoryInfo_v2', call: memV2, structVersion: 2 });
  memory.push({ symbol: 'nvmlDeviceGetMemoryInfo', call: required('nvmlDeviceGetMemoryInfo', 'int', [ptr, ptr]), structVersion: 1 });

  const processes: NvmlProcessesEntry[] = [];
  const v3 = optionalFunc(lib, 'nvmlDeviceGetComputeRunningProcesses_v3', 'int', [ptr, ptr, ptr]);
  if (v3) {
    const entryBytes = processEntryBytesForV3(
      hasSymbol(lib, 'nvmlDeviceGetConfComputeMemSizeInfo'),
      hasSymbol(lib, 'nvmlDeviceGetRunningProcessDetailList'),
    );
    processes.push({ symbol: 'nvmlDeviceGetComputeRunningProcesses_v3', call: v3, entryBytes });
  }
  const v2 = optionalFunc(lib, 'nvmlDeviceGetComputeRunningProcesses_v2', 'int', [ptr, ptr, ptr]);
  if (v2) processes.push({ symbol: 'nvmlDeviceGetComputeRunningProcesses_v2', call: v2, entryBytes: 24 });
  const v1 = optionalFunc(lib, 'nvmlDeviceGetComputeRunningProcesses', 'int', [ptr, ptr, ptr]);
  if (v1) processes.push({ symbol: 'nvmlDeviceGetComputeRunningProcesses', call: v1, entryBytes: 16 });
  if (processes.length === 0) throw new Error(`${libPath}: exports no nvmlDeviceGetComputeRunningProcesses*`);

  const counters: NvmlCounterFns = {
    getAccountingMode: optionalFunc(lib, 'nvmlDeviceGetAccountingMode', 'int', [ptr, ptr]),
    getAccountingBufferSize: optionalFunc(lib, 'nvmlDeviceGetAccountingBufferSize', 'int', [ptr, ptr]),
    getAccountingPids: optionalFunc(lib, 'nvmlDeviceGetAccountingPids', 'int', [ptr, ptr, ptr]),
    getAccountingStats: optionalFunc(lib, 'nvmlDeviceGetAccountingStats', 'int', [ptr, 'uint32_t', ptr]),
    getTotalEnergyConsumption: optionalFunc(lib, 'nvmlDeviceGetTotalEnergyConsumption', 'int', [ptr, ptr]),
    getPowerUsage: optionalFunc(lib, 'nvmlDeviceGetPowerUsage', 'int', [ptr, ptr]),
    getDriverVersion: optionalFunc(lib, 'nvmlSystemGetDriverVersion', 'int', [ptr, 'uint32_t']),
    getCudaDriverVersion:
      optionalFunc(lib, 'nvmlSystemGetCudaDriverVersion_v2', 'int', [ptr]) ?? optionalFunc(lib, 'nvmlSystemGetCudaDriverVersion', 'int', [ptr]),
    getPersistenceMode: optionalFunc(lib, 'nvmlDeviceGetPersistenceMode', 'int', [ptr, ptr]),
  };

  const mig: NvmlMigFns = {
    getMigMode: optionalFunc(lib, 'nvmlDeviceGetMigMode', 'int', [ptr, ptr, ptr]),
    getMaxMigDeviceCount: optionalFunc(lib, 'nvmlDeviceGetMaxMigDeviceCount', 'int', [ptr, ptr]),
    getMigDeviceHandleByIndex: optionalFunc(lib, 'nvmlDeviceGetMigDeviceHandleByIndex', 'int', [ptr, 'uint32_t', ptr]),
    getGpuInstanceId: optionalFunc(lib, 'nvmlDeviceGetGpuInstanceId', 'int', [ptr, ptr]),
    getComputeInstanceId: optionalFunc(lib, 'nvmlDeviceGetComputeInstanceId', 'int', [ptr, ptr]),
  };

  return {
    mig, counters, init, shutdown, getCount, getHandleByIndex, getName, getUuid, getUtilization, memory, processes,
    errorString: (code) => String(errorString(code) ?? `NVML error ${code}`),
  };
}
