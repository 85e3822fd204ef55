// Small interfaces every OS adapter sits behind. The sampler only sees these.
import type { GpuDeviceSample, HostCpuTimes } from '../core/types.js';
import type { GpuCounters } from '../gpu/counters.js';

/** Whether a source works right now, and if not, why (shown in /healthz and as a metric). */
export interface SourceStatus {
  up: boolean;
  reason?: string;
}

/** One cgroup controller directory and the hierarchy version it lives in. */
export interface CgroupDir {
  version: 1 | 2;
  dir: string;
}

/** Where a target's CPU and memory counters live (may be two v1 hierarchies, or one v2 directory). */
export interface CgroupPaths {
  cpu: CgroupDir;
  memory: CgroupDir | null;
}

export interface CgroupReading {
  cpuSeconds: number | null;
  ramMiB: number | null;
}

export interface HostReading {
  cpu: HostCpuTimes;
  memUsedMiB: number;
  memTotalMiB: number;
}

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
  /** Accounting records, energy and power (issue 11); only NVML has them. */
  readonly counters?: GpuCounters;
}
