// Small interfaces the host adapters sit behind. The cgroup ones are src/cgroup/types.ts, the GPU ones src/gpu/types.ts.
import type { HostCpuTimes } from '../core/types.js';

/** Whether a source works right now, and if not, why (shown in /healthz and as a metric). */
export interface SourceStatus {
  up: boolean;
  reason?: string;
}

export interface HostReading {
  cpu: HostCpuTimes;
  memUsedMiB: number;
  memTotalMiB: number;
}
