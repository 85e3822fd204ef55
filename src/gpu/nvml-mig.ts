// MIG devices through NVML (R450 and later; docs/gpu-accounting.md). With MIG on, a GPU is split into
// MIG devices, each with its own UUID (MIG-…, what a container given one carries in
// NVIDIA_VISIBLE_DEVICES) and memory; the parent GPU's process list tags each process with the
// (gpuInstanceId, computeInstanceId) pair of the MIG device it runs in (0xFFFFFFFF with MIG off).
// Discovery walks nvmlDeviceGetMigDeviceHandleByIndex over the GPU's slots (NOT_FOUND = empty slot).
import type { MigDevice } from './types.js';
import type { NvmlDeviceHandle, NvmlLib } from './nvml-lib.js';

/** A MIG device as the source keeps it: what readMemory needs (a handle, a buffer, the GPU's index). */
export interface MigState {
  readonly info: MigDevice & { index: number };
  handle: NvmlDeviceHandle;
  readonly memBuf: Buffer;
}

/** The instance-id value of a process outside any MIG device. */
export const NO_MIG_INSTANCE = 0xffffffff;

export function migKey(parentIndex: number, gpuInstanceId: number, computeInstanceId: number): string {
  return `${parentIndex}/${gpuInstanceId}/${computeInstanceId}`;
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

/**
 * The MIG devices of the given GPUs (those whose current MIG mode is on). Best effort: a library
 * without the MIG symbols, a GPU without MIG (NOT_SUPPORTED) or an unreadable slot adds nothing.
 */
export function discoverMig(lib: NvmlLib, gpus: readonly { index: number; handle: NvmlDeviceHandle }[]): MigState[] {
  const f = lib.mig;
  if (!f.getMigMode || !f.getMaxMigDeviceCount || !f.getMigDeviceHandleByIndex || !f.getGpuInstanceId || !f.getComputeInstanceId) return [];
  const out: MigState[] = [];
  const a = Buffer.alloc(4);
  const b = Buffer.alloc(4);
  const handleBuf = Buffer.alloc(8);
  const strBuf = Buffer.alloc(96);
  for (const gpu of gpus) {
    if (f.getMigMode(gpu.handle, a, b) !== 0 || a.readUInt32LE(0) !== 1) continue;
    if (f.getMaxMigDeviceCount(gpu.handle, a) !== 0) continue;
    const slots = a.readUInt32LE(0);
    for (let slot = 0; slot < slots; slot++) {
      if (f.getMigDeviceHandleByIndex(gpu.handle, slot, handleBuf) !== 0) continue;
      const handle = handleBuf.readBigUInt64LE(0);
      strBuf.fill(0);
      if (lib.getUuid(handle, strBuf, strBuf.length) !== 0) continue;
      if (f.getGpuInstanceId(handle, a) !== 0 || f.getComputeInstanceId(handle, b) !== 0) continue;
      out.push({
        info: { uuid: cString(strBuf), parentIndex: gpu.index, index: gpu.index, gpuInstanceId: a.readUInt32LE(0), computeInstanceId: b.readUInt32LE(0), totalMiB: 0 },
        handle,
        memBuf: Buffer.alloc(40),
      });
    }
  }
  return out;
}
