// The one interface every GPU source (NVML, nvidia-smi, none) sits behind. The sampler only sees this.
import type { GpuDevice, GpuDeviceSample, GpuProcess, MigDeviceSample } from '../core/types.js';
import type { SourceStatus } from '../sources/types.js';
import type { GpuCounters } from './counters.js';

/** A MIG device (docs/gpu-accounting.md): a slice of GPU parentIndex with its own UUID (MIG-…) and memory. */
export interface MigDevice {
  uuid: string;
  parentIndex: number;
  gpuInstanceId: number;
  computeInstanceId: number;
  totalMiB: number;
}

/** One compute process on one GPU. usedMiB null = the driver said "not available" (not zero). */
export interface GpuSnapshot {
  devices: GpuDeviceSample[];
  processes: GpuProcess[];
  /** MIG devices' memory (NVML only, GPUs with MIG on); absent when there are none. */
  mig?: MigDeviceSample[];
}

export type GpuSourceName = 'nvml' | 'nvidia-smi' | 'none';

/** GPU memory per device and per process. sample() is synchronous and cheap: it runs on every tick. */
export interface GpuSource {
  readonly name: GpuSourceName;
  devices(): GpuDevice[];
  /** MIG devices of GPUs with MIG on (NVML only). */
  migDevices?(): MigDevice[];
  /** Throws nothing: a failing read returns an empty snapshot and flips status() to down. */
  sample(): GpuSnapshot;
  status(): SourceStatus;
  close(): void;
  /** Accounting records, energy and power (docs/gpu-accounting.md); only NVML has them. */
  readonly counters?: GpuCounters;
}
