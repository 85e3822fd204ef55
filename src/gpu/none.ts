// The source used when no GPU source works (or --gpu-source none): no devices, nothing to attribute.
import type { GpuDevice } from '../core/types.js';
import type { SourceStatus } from '../sources/types.js';
import type { GpuSnapshot, GpuSource } from './types.js';

const DOWN: SourceStatus = { up: false, reason: 'no GPU source' };

export function noGpuSource(reason = 'no GPU source'): GpuSource {
  const status: SourceStatus = reason === DOWN.reason ? DOWN : { up: false, reason };
  return {
    name: 'none',
    devices: (): GpuDevice[] => [],
    sample: (): GpuSnapshot => ({ devices: [], processes: [] }),
    status: () => status,
    close: () => {},
  };
}
