// evaluate's interference guard (docs/gpu-accounting.md): before each case, wait until the case's GPU
// has no other process and less memory used than a floor; and the GPU environment for summary.json.
import { gpuBusyReason } from '../core/gpu-guard.js';
import type { GpuSource } from './types.js';

export interface IdleWaitOptions {
  gpuIndex: number;
  floorMiB: number;
  timeoutMs: number;
  /** Between two looks (default 500 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

export type IdleWaitResult = { idle: true; waitedMs: number } | { idle: false; reason: string };

export async function waitForIdleGpu(source: GpuSource, o: IdleWaitOptions): Promise<IdleWaitResult> {
  const started = performance.now();
  const pollMs = o.pollMs ?? 500;
  for (;;) {
    const snapshot = source.sample();
    const status = source.status();
    const reason = status.up ? gpuBusyReason(o.gpuIndex, snapshot.devices, snapshot.processes, o.floorMiB) : `GPU source ${source.name} down: ${status.reason ?? 'unknown'}`;
    const waitedMs = performance.now() - started;
    if (reason === null) return { idle: true, waitedMs };
    if (waitedMs >= o.timeoutMs || o.signal?.aborted) {
      return { idle: false, reason: `GPU not idle after ${(waitedMs / 1000).toFixed(1)} s: ${reason}` };
    }
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, o.timeoutMs - waitedMs))));
  }
}

/** What summary.json records about the case's GPU, for reproducibility. null fields: unknown. */
export interface GpuEnvironment {
  source: string;
  gpuIndex: number;
  name: string | null;
  uuid: string | null;
  totalMiB: number | null;
  driverVersion: string | null;
  cudaDriverVersion: string | null;
  persistenceMode: string | null;
  accountingMode: string | null;
}

export function gpuEnvironment(source: GpuSource, gpuIndex: number): GpuEnvironment {
  const d = source.devices().find((x) => x.index === gpuIndex);
  const c = source.counters;
  return {
    source: source.name,
    gpuIndex,
    name: d?.name ?? null,
    uuid: d?.uuid ?? null,
    totalMiB: d?.totalMiB ?? null,
    driverVersion: c?.driverVersion() ?? null,
    cudaDriverVersion: c?.cudaDriverVersion() ?? null,
    persistenceMode: c ? c.persistenceMode(gpuIndex) : null,
    accountingMode: c ? c.accountingMode(gpuIndex) : null,
  };
}
