// The node's static inventory, recorded once per agent start (systeminformation is too slow for the tick path).
import type { GpuDevice, NodeInventory } from '../core/types.js';
import { hostname } from 'node:os';
import si from 'systeminformation';

export async function readInventory(agentVersion: string, gpus: GpuDevice[]): Promise<NodeInventory> {
  const [cpu, mem, os] = await Promise.all([si.cpu(), si.mem(), si.osInfo()]);
  return {
    node: hostname(),
    cpuModel: `${cpu.manufacturer} ${cpu.brand}`.trim(),
    cpuCores: cpu.cores,
    memTotalMiB: mem.total / (1024 * 1024),
    os: `${os.distro} ${os.release}`.trim(),
    kernel: os.kernel,
    gpus: gpus.map((g) => ({ index: g.index, uuid: g.uuid, name: g.name, totalMiB: g.totalMiB })),
    agentVersion,
    recordedWallMs: Date.now(),
  };
}
