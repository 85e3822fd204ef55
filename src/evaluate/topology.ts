// The pool's GPUs and where they sit: NVML gives each GPU's UUID and PCI bus id, sysfs gives the CPUs
// local to that PCI device and its NUMA node (docs/parallel-evaluation.md). Every unknown becomes a
// stated reason, never a guess; the choice of CPUs is the pure core's (core/placement.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCpuList, type GpuLocality } from '../core/placement.js';
import { readNvmlPci, type NvmlPciDevice } from '../gpu/nvml-pci.js';

/** NVML's "00000000:3B:00.0" (8-digit domain, upper case) → sysfs's "0000:3b:00.0". */
export function sysfsBusId(nvmlBusId: string): string | null {
  const m = /^([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(nvmlBusId.trim());
  if (!m) return null;
  const domain = m[1].slice(-4).padStart(4, '0');
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** Online CPUs from <sys>/devices/system/cpu/online; null when unreadable. */
export function onlineCpus(sysRoot = '/sys'): number[] | null {
  const raw = readText(join(sysRoot, 'devices/system/cpu/online'));
  return raw === null ? null : parseCpuList(raw);
}

/** local_cpulist and numa_node of a PCI device, or the reason they are unknown. */
export function pciLocality(sysRoot: string, busId: string): { localCpus: number[] | null; numaNode: number | null; reason: string | null } {
  const dir = join(sysRoot, 'bus/pci/devices', busId);
  const list = readText(join(dir, 'local_cpulist'));
  if (list === null) return { localCpus: null, numaNode: null, reason: `no ${dir}/local_cpulist` };
  let localCpus: number[];
  try {
    localCpus = parseCpuList(list);
  } catch (e) {
    return { localCpus: null, numaNode: null, reason: `${dir}/local_cpulist: ${(e as Error).message}` };
  }
  // numa_node is -1 on machines without NUMA (or when firmware did not say): no node, not an error.
  const node = Number((readText(join(dir, 'numa_node')) ?? '-1').trim());
  return { localCpus: localCpus.length > 0 ? localCpus : null, numaNode: Number.isInteger(node) && node >= 0 ? node : null, reason: localCpus.length > 0 ? null : `${dir}/local_cpulist is empty` };
}

/** Parses --gpus: "all", or a comma list of indices and GPU-/MIG- UUIDs. Throws on anything else. */
export function parseGpuList(raw: string): 'all' | string[] {
  const text = raw.trim();
  if (text === 'all') return 'all';
  const items = text.split(',').map((s) => s.trim());
  for (const it of items) {
    if (!/^(\d{1,3}|(GPU|MIG)-[0-9A-Za-z/-]{1,100})$/.test(it)) throw new Error(`--gpus: expected all, GPU indices or GPU-/MIG- UUIDs separated by commas, got ${JSON.stringify(it.slice(0, 120))}`);
  }
  if (new Set(items).size !== items.length) throw new Error('--gpus: a GPU is listed twice');
  return items;
}

export interface PoolDiscovery {
  gpus: GpuLocality[];
  /** Why NVML gave nothing (null when it answered). */
  nvmlReason: string | null;
}

/** The pool's GPUs with their locality; `nvmlLib` null when NVML is not to be asked (--gpu-source none). */
export function discoverPool(list: 'all' | string[], nvmlLib: string | null, sysRoot = '/sys'): PoolDiscovery {
  let devices: NvmlPciDevice[] | null = null;
  let nvmlReason: string | null = null;
  if (nvmlLib === null) nvmlReason = 'NVML not used (--gpu-source none)';
  else {
    try {
      devices = readNvmlPci(nvmlLib);
    } catch (e) {
      nvmlReason = `NVML: ${(e as Error).message}`;
    }
  }
  if (list === 'all') {
    if (!devices) throw new Error(`--gpus all needs NVML to list the GPUs (${nvmlReason})`);
    if (devices.length === 0) throw new Error('--gpus all: NVML reports no GPU');
  }
  const wanted = list === 'all' ? devices!.map((d) => String(d.index)) : list;
  const gpus = wanted.map((gpu): GpuLocality => {
    if (gpu.startsWith('MIG-')) {
      // A MIG instance shares its parent's PCI device; NVML's parent lookup is not bound here.
      return { gpu, uuid: gpu, pciBusId: null, localCpus: null, numaNode: null, reason: 'MIG device: parent GPU not resolved' };
    }
    if (!devices) return { gpu, uuid: null, pciBusId: null, localCpus: null, numaNode: null, reason: nvmlReason };
    const d = /^\d+$/.test(gpu) ? devices.find((x) => x.index === Number(gpu)) : devices.find((x) => x.uuid === gpu);
    if (!d) throw new Error(`--gpus: NVML has no GPU ${gpu} (it has ${devices.map((x) => `${x.index} ${x.uuid}`).join(', ') || 'none'})`);
    const busId = d.pciBusId === null ? null : sysfsBusId(d.pciBusId);
    if (busId === null) return { gpu, uuid: d.uuid, pciBusId: d.pciBusId, localCpus: null, numaNode: null, reason: d.pciReason ?? `unrecognised PCI bus id ${d.pciBusId}` };
    return { gpu, uuid: d.uuid, pciBusId: busId, ...pciLocality(sysRoot, busId) };
  });
  return { gpus, nvmlReason };
}
