// evaluate --require-idle-gpu (docs/gpu-accounting.md): a GPU source of the harness's own,
// apart from the measuring agent's (which may be remote), to check the case's GPU before each case and
// to record its environment in summary.json.
import { selectGpuSource } from '../gpu/select.js';
import { gpuEnvironment, waitForIdleGpu, type GpuEnvironment } from '../gpu/idle-guard.js';
import type { GpuSource } from '../gpu/types.js';
import type { EvaluateOptions } from './options.js';

export interface IdleGuard {
  enabled: boolean;
  environment: GpuEnvironment | { error: string };
  /** null when the GPU is idle (or became so within the timeout); else why the case must not run. */
  waitIdle(signal: AbortSignal): Promise<string | null>;
  close(): void;
}

export async function openIdleGuard(o: EvaluateOptions): Promise<IdleGuard> {
  const gpuIndex = Number(o.gpu);
  let source: GpuSource | null = null;
  let why = '';
  try {
    const selected = await selectGpuSource({ mode: o.gpuSource, nvmlLib: o.nvmlLib, intervalMs: 500 });
    source = selected.source;
    if (source.name === 'none') why = `no GPU source (${Object.entries(selected.reasons).map(([k, v]) => `${k}: ${v}`).join('; ')})`;
  } catch (e) {
    why = (e as Error).message;
  }
  const usable = source !== null && source.name !== 'none';
  const environment = usable && source ? gpuEnvironment(source, gpuIndex) : { error: why };
  return {
    enabled: o.requireIdleGpu,
    environment,
    async waitIdle(signal) {
      if (!usable || !source) return `idle-GPU guard: cannot check GPU ${gpuIndex}: ${why} (--no-require-idle-gpu runs anyway)`;
      const r = await waitForIdleGpu(source, { gpuIndex, floorMiB: o.idleGpuFloorMiB, timeoutMs: o.idleGpuTimeoutSeconds * 1000, signal });
      return r.idle ? null : `idle-GPU guard: ${r.reason}`;
    },
    close: () => source?.close(),
  };
}
