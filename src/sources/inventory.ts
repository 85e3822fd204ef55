// The node's static inventory, recorded once per agent start: CPU model and count, memory, OS, kernel,
// GPUs. Read from what Node and the OS already hold (os.cpus() reads /proc/cpuinfo's `model name`,
// os.totalmem() /proc/meminfo's MemTotal) and /etc/os-release. It spawns no process: the library it
// used before ran about ten commands at every start (lsb_release, hostname -f, the network's MAC
// addresses, …), most of a fresh agent's first seconds of CPU.
import type { GpuDevice, NodeInventory } from '../core/types.js';
import { readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';

const BYTES_PER_MIB = 1024 * 1024;

/**
 * NAME and VERSION_ID of an os-release file (os-release(5): KEY=value lines, the value optionally in
 * double or single quotes, with backslash escapes inside double quotes), as "Debian GNU/Linux 12".
 */
export function osOfRelease(text: string): string {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0 || line.startsWith('#')) continue;
    let value = line.slice(eq + 1).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(.)/g, '$1');
    }
    fields[line.slice(0, eq).trim()] = value;
  }
  return `${fields.NAME ?? 'unknown'} ${fields.VERSION_ID ?? ''}`.trim();
}

function osOfNode(): string {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return osOfRelease(readFileSync(path, 'utf8'));
    } catch {
      // the next place os-release(5) names
    }
  }
  return 'unknown';
}

export function readInventory(agentVersion: string, gpus: GpuDevice[]): NodeInventory {
  const cpuList = cpus();
  return {
    node: hostname(),
    cpuModel: (cpuList[0]?.model ?? 'unknown').trim(),
    cpuCores: cpuList.length,
    memTotalMiB: totalmem() / BYTES_PER_MIB,
    os: osOfNode(),
    kernel: release(),
    gpus: gpus.map((g) => ({ index: g.index, uuid: g.uuid, name: g.name, totalMiB: g.totalMiB })),
    agentVersion,
    recordedWallMs: Date.now(),
  };
}
