// The node's static inventory, recorded once per agent start (systeminformation is too slow for the tick path).
import { hostname } from 'node:os';
import si from 'systeminformation';
import type { NodeInventory } from '../store/types.js';
import type { GpuDevice } from '../gpu/types.js';

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
