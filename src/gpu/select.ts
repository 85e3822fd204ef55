// --gpu-source auto|nvml|nvidia-smi|none. auto tries NVML, then nvidia-smi, then settles for none;
// an explicit choice that cannot be honoured is an error (the CLI exits 2 with the reason).
import type { GpuSource } from './types.js';
import { noGpuSource } from './none.js';
import { openNvmlSource } from './nvml.js';
import { openSmiSource } from './smi.js';

export type GpuSourceMode = 'auto' | 'nvml' | 'nvidia-smi' | 'none';

export const GPU_SOURCE_MODES: readonly GpuSourceMode[] = ['auto', 'nvml', 'nvidia-smi', 'none'];

export interface SelectGpuSourceOptions {
  mode: GpuSourceMode;
  /** dlopen name or path of libnvidia-ml (--nvml-lib). */
  nvmlLib: string;
  /** Sampling interval; the nvidia-smi fallback loops at it. */
  intervalMs: number;
  /** nvidia-smi executable (default 'nvidia-smi' on PATH). */
  smiBinary?: string;
}

export interface SelectedGpuSource {
  source: GpuSource;
  /** For each source that is not active, why (e.g. { nvml: 'libnvidia-ml.so.1: cannot open shared object file…' }). */
  reasons: Record<string, string>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function selectGpuSource(opts: SelectGpuSourceOptions): Promise<SelectedGpuSource> {
  const reasons: Record<string, string> = {};
  const tryNvml = (): GpuSource | null => {
    try {
      return openNvmlSource({ libPath: opts.nvmlLib });
    } catch (err) {
      reasons.nvml = message(err);
      return null;
    }
  };
  const trySmi = async (): Promise<GpuSource | null> => {
    try {
      return await openSmiSource({ intervalMs: opts.intervalMs, binary: opts.smiBinary });
    } catch (err) {
      reasons['nvidia-smi'] = message(err);
      return null;
    }
  };

  switch (opts.mode) {
    case 'none':
      return { source: noGpuSource(), reasons: { nvml: 'not selected (--gpu-source none)', 'nvidia-smi': 'not selected (--gpu-source none)' } };
    case 'nvml': {
      const source = tryNvml();
      if (!source) throw new Error(`--gpu-source nvml: ${reasons.nvml}`);
      return { source, reasons: { 'nvidia-smi': 'not selected (--gpu-source nvml)' } };
    }
    case 'nvidia-smi': {
      const source = await trySmi();
      if (!source) throw new Error(`--gpu-source nvidia-smi: ${reasons['nvidia-smi']}`);
      return { source, reasons: { nvml: 'not selected (--gpu-source nvidia-smi)' } };
    }
    case 'auto': {
      const nvml = tryNvml();
      if (nvml && nvml.devices().length > 0) return { source: nvml, reasons: { 'nvidia-smi': 'not needed: NVML works' } };
      if (nvml) {
        // A library that loads but sees no GPU (driver without devices, a container without
        // --gpus) is no GPU source: fall through, saying so.
        nvml.close();
        reasons.nvml = 'NVML loads but reports 0 GPUs';
      }
      const smi = await trySmi();
      if (smi) return { source: smi, reasons };
      return { source: noGpuSource(), reasons };
    }
    default:
      throw new Error(`--gpu-source must be one of ${GPU_SOURCE_MODES.join('|')}, not ${String(opts.mode)}`);
  }
}
