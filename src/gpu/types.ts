// The one interface every GPU source (NVML, nvidia-smi, none) sits behind. The sampler only sees this.
import type { GpuDeviceSample } from '../core/types.js';
import type { SourceStatus } from '../sources/types.js';
import type { GpuCounters } from './counters.js';

export interface GpuDevice {
  index: number;
  uuid: string;
  name: string;
  totalMiB: number;
}

/** One compute process on one GPU. usedMiB null = the driver said "not available" (not zero). */
export interface GpuProcess {
  pid: number;
  gpuIndex: number;
  usedMiB: number | null;
}

export interface GpuSnapshot {
  devices: GpuDeviceSample[];
  processes: GpuProcess[];
}

export type GpuSourceName = 'nvml' | 'nvidia-smi' | 'none';

/** GPU memory per device and per process. sample() is synchronous and cheap: it runs on every tick. */
export interface GpuSource {
  readonly name: GpuSourceName;
  devices(): GpuDevice[];
  /** Throws nothing: a failing read returns an empty snapshot and flips status() to down. */
  sample(): GpuSnapshot;
  status(): SourceStatus;
  close(): void;
  /** Accounting records, energy and power (docs/gpu-accounting.md); only NVML has them. */
  readonly counters?: GpuCounters;
}
