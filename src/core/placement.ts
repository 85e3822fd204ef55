// Where each evaluation slot runs: one GPU per slot and a disjoint set of CPUs for its container,
// taken from the cores local to that GPU (its PCI device's local_cpulist) when the kernel says which
// they are. Pure: the sysfs and NVML facts come in as values (docs/parallel-evaluation.md).

/** A GPU of the pool as the adapters found it. */
export interface GpuLocality {
  /** What the device request names: an index, a GPU-… or MIG-… UUID. */
  gpu: string;
  uuid: string | null;
  /** sysfs form, e.g. 0000:3b:00.0 (null: unknown). */
  pciBusId: string | null;
  /** CPUs the kernel lists as local to the device (null: unknown, see `reason`). */
  localCpus: number[] | null;
  /** NUMA node of the device (null: none or unknown). */
  numaNode: number | null;
  /** Why localCpus is unknown (e.g. no sysfs entry, MIG device, no NVML). */
  reason: string | null;
}

export interface SlotPlacement {
  slot: number;
  gpu: string;
  uuid: string | null;
  pciBusId: string | null;
  numaNode: number | null;
  /** CPUs of this slot's container, ascending; empty = not pinned (--cpus-per-run 0). */
  cpus: number[];
  /** Docker's --cpuset-cpus form ("2-3,6"), or null when not pinned. */
  cpuset: string | null;
  /** How the CPUs were chosen when not all from the GPU's local cores; null when they were. */
  note: string | null;
}

export class PlacementError extends Error {}

const MAX_CPU = 1 << 16;

/** Kernel cpulist format ("0-3,8,10-11", as in local_cpulist and cpu/online) → sorted CPU numbers. */
export function parseCpuList(raw: string): number[] {
  const text = raw.trim();
  if (text === '') return [];
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part.trim());
    if (!m) throw new PlacementError(`not a CPU list: ${JSON.stringify(raw.slice(0, 80))}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= MAX_CPU) throw new PlacementError(`bad CPU range ${part}`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** Sorted CPU numbers → the shortest cpulist ("0-3,8"). */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * One slot per GPU, each with `cpusPerRun` CPUs no other slot has. First every slot with a known
 * local set takes its share of its GPU's local cores (fewest local CPUs first, lowest numbers first);
 * then a slot left short, or whose locality is unknown, takes the free cores no GPU calls local,
 * then any free core, and says so in `note`. Throws when the CPUs do not suffice.
 * cpusPerRun 0: no pinning (every container may use every CPU; stated in each note).
 */
export function placeSlots(gpus: readonly GpuLocality[], onlineCpus: readonly number[], cpusPerRun: number): SlotPlacement[] {
  if (!Number.isInteger(cpusPerRun) || cpusPerRun < 0) throw new PlacementError(`cpus per run must be an integer ≥ 0, got ${cpusPerRun}`);
  if (gpus.length === 0) throw new PlacementError('no GPU in the pool');
  const seen = new Set<string>();
  for (const g of gpus) {
    if (seen.has(g.gpu)) throw new PlacementError(`GPU ${g.gpu} listed twice`);
    seen.add(g.gpu);
  }
  const online = [...new Set(onlineCpus)].sort((a, b) => a - b);
  const base = (g: GpuLocality, slot: number): SlotPlacement => ({ slot, gpu: g.gpu, uuid: g.uuid, pciBusId: g.pciBusId, numaNode: g.numaNode, cpus: [], cpuset: null, note: null });
  if (cpusPerRun === 0) return gpus.map((g, slot) => ({ ...base(g, slot), note: 'not pinned (--cpus-per-run 0): containers share every CPU' }));
  const needed = cpusPerRun * gpus.length;
  if (needed > online.length) {
    throw new PlacementError(`${gpus.length} slots × ${cpusPerRun} CPUs = ${needed} CPUs, but ${online.length} are online (${formatCpuList(online)}); lower --cpus-per-run or use fewer GPUs`);
  }
  const free = new Set(online);
  const localToSomeGpu = new Set(gpus.flatMap((g) => g.localCpus ?? []));
  const order = gpus
    .map((g, slot) => ({ g, slot, local: g.localCpus ? g.localCpus.filter((c) => free.has(c)) : null }))
    .sort((a, b) => (a.local === null ? 1 : 0) - (b.local === null ? 1 : 0) || (a.local?.length ?? 0) - (b.local?.length ?? 0) || a.slot - b.slot);
  const take = (from: readonly number[], n: number): number[] => {
    const got = from.filter((c) => free.has(c)).slice(0, n);
    for (const c of got) free.delete(c);
    return got;
  };
  // First every slot's share of its own local cores, then the shortfalls from what is left.
  const picked = new Map(order.map(({ g, slot }) => [slot, g.localCpus ? take(g.localCpus, cpusPerRun) : []]));
  const fromLocal = new Map([...picked].map(([slot, cpus]) => [slot, cpus.length]));
  for (const { slot } of order) {
    const cpus = picked.get(slot)!;
    if (cpus.length < cpusPerRun) cpus.push(...take(online.filter((c) => !localToSomeGpu.has(c)), cpusPerRun - cpus.length));
    if (cpus.length < cpusPerRun) cpus.push(...take(online, cpusPerRun - cpus.length));
  }
  const out: SlotPlacement[] = [];
  for (const { g, slot } of order) {
    const cpus = picked.get(slot)!.sort((a, b) => a - b);
    const local = fromLocal.get(slot)!;
    let note: string | null = null;
    if (!g.localCpus) note = `GPU locality unknown (${g.reason ?? 'no reason given'}): CPUs from all online CPUs`;
    else if (local < cpusPerRun) note = `${cpusPerRun - local} of ${cpusPerRun} CPUs outside the GPU's local cores (${formatCpuList(g.localCpus)}): not enough free local cores`;
    out.push({ ...base(g, slot), cpus, cpuset: formatCpuList(cpus), note });
  }
  return out.sort((a, b) => a.slot - b.slot);
}

/**
 * Remaining time of a pool: the cases still queued and what is left of the running ones (each at most
 * the mean case duration), shared among the slots. null until one case has finished.
 */
export function poolEtaSeconds(doneDurations: readonly number[], queued: number, runningElapsed: readonly number[], slots: number): number | null {
  if (doneDurations.length === 0) return null;
  const mean = doneDurations.reduce((a, b) => a + b, 0) / doneDurations.length;
  const left = runningElapsed.reduce((a, e) => a + Math.max(0, mean - e), 0) + queued * mean;
  return left / Math.max(1, slots);
}
