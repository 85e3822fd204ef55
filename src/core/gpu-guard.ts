// Whether a GPU is clean enough to start a case on (evaluate --require-idle-gpu; docs/gpu-accounting.md).
// Pure: the GPU's device sample and process list come in, a reason (or null: idle) goes out.
import type { GpuDeviceSample } from './types.js';

export interface GuardProcess {
  pid: number;
  gpuIndex: number;
  usedMiB: number | null;
}

/**
 * Why the GPU is not idle: other processes on it, or more memory used than the floor (a driver
 * context or another tool's allocation); null when it is idle. An unreadable GPU is not idle.
 */
export function gpuBusyReason(gpuIndex: number, devices: readonly GpuDeviceSample[], processes: readonly GuardProcess[], floorMiB: number): string | null {
  const device = devices.find((d) => d.index === gpuIndex);
  if (!device) return `GPU ${gpuIndex} not found`;
  const others = processes.filter((p) => p.gpuIndex === gpuIndex);
  if (others.length > 0) {
    const shown = others.slice(0, 5).map((p) => `pid ${p.pid} ${p.usedMiB === null ? 'unknown' : Math.round(p.usedMiB)} MiB`);
    const more = others.length > shown.length ? `, +${others.length - shown.length} more` : '';
    return `GPU ${gpuIndex} has ${others.length} other process${others.length === 1 ? '' : 'es'} (${shown.join(', ')}${more})`;
  }
  if (device.usedMiB === null) return `GPU ${gpuIndex}: used memory unknown`;
  if (device.usedMiB > floorMiB) return `GPU ${gpuIndex} has ${Math.round(device.usedMiB)} MiB used, above the ${floorMiB} MiB floor`;
  return null;
}
