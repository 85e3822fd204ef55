// FLARE's efficiency figures as the organisers' monitor script would have produced them for the same
// container, modelled from our stored traces (docs/scoring.md, "How each official column is formed").
// Pure: the caller gathers the run's samples, the host samples over the span and the span facts.
import { FLARE_CPU_DENOMINATOR_PAD_SECONDS } from '../core/flare-formulas.js';
import type { HostCpuTimes, NodeSample, OfficialSpanSource, RunSample } from '../core/types.js';

/** The monitor loop (`sample; sleep(nominal)`): its real period is nominal + samplingCost. */
export interface LoopModel {
  /** The sleep, and what every sum is multiplied by (s). */
  nominalIntervalSeconds: number;
  /** Time one loop's queries take on top of the sleep (s). */
  samplingCostSeconds: number;
  /** CPU time the loop itself burns per iteration (s): the host counters we read do not contain it. */
  samplingCpuSeconds: number;
  /** t0 → the first sample (s): the monitor process starting and its first queries. */
  firstTickDelaySeconds: number;
  /** How long before the first sample the script took its first cpu_times reading (s): its start-up after that reading. */
  firstCpuIntervalSeconds: number;
  /** Cores the script kept busy over that first interval (its own start-up load). */
  firstCpuBusyCores: number;
}

/** Docker's and the script's own overheads around the container, used where no measured time is known. */
export interface SpanModel {
  /** Script's clock start → Docker's create (the docker CLI starting up) (s). */
  cliStartSeconds: number;
  /** create → Docker's StartedAt (s). */
  createToStartSeconds: number;
  /** Docker's FinishedAt → `--rm` removal done (destroy) (s). */
  stopToRemovedSeconds: number;
  /** destroy → the docker CLI has returned (s). */
  cliExitSeconds: number;
  /** CLI returned → the result JSON written and the clock read (s), for an empty trace. */
  resultWriteSeconds: number;
  /** What each sample adds to that write (s): the JSON is written indented, a sample at a time. */
  resultWritePerSampleSeconds: number;
}

/** What is known about the container's life on CLOCK_MONOTONIC (ns). */
export interface SpanFacts {
  startedMonoNs: number;
  endedMonoNs: number;
  /** Docker's create / destroy, when seen. */
  createdMonoNs?: number | null;
  destroyedMonoNs?: number | null;
  /** A harness that ran the container itself: just before create, just after removal. */
  harness?: { beforeCreateMonoNs: number; afterRemoveMonoNs: number } | null;
}

export interface OfficialSpan {
  /** The script's t0 (its clock starts and its monitor samples from here). */
  timeStartMonoNs: number;
  /** `docker run` returned: the monitor's lists are copied here, later samples are lost. */
  monitorEndMonoNs: number;
  /** The clock read after the JSON was written: Time = timeEnd − timeStart. */
  timeEndMonoNs: number;
  source: OfficialSpanSource;
}

const NS_PER_S = 1e9;

/** The script's span: from the harness's own timing, else Docker's create/destroy, else the model. */
export function officialSpan(f: SpanFacts, m: SpanModel): OfficialSpan {
  let createNs: number;
  let destroyNs: number;
  let source: OfficialSpan['source'];
  if (f.harness) {
    createNs = f.harness.beforeCreateMonoNs;
    destroyNs = f.harness.afterRemoveMonoNs;
    source = 'harness';
  } else if (f.createdMonoNs != null && f.destroyedMonoNs != null) {
    createNs = f.createdMonoNs;
    destroyNs = f.destroyedMonoNs;
    source = 'docker-events';
  } else {
    createNs = f.createdMonoNs ?? f.startedMonoNs - m.createToStartSeconds * NS_PER_S;
    destroyNs = f.destroyedMonoNs ?? f.endedMonoNs + m.stopToRemovedSeconds * NS_PER_S;
    source = 'modelled';
  }
  const timeStartMonoNs = createNs - m.cliStartSeconds * NS_PER_S;
  const monitorEndMonoNs = destroyNs + m.cliExitSeconds * NS_PER_S;
  return { timeStartMonoNs, monitorEndMonoNs, timeEndMonoNs: monitorEndMonoNs + m.resultWriteSeconds * NS_PER_S, source };
}

/** Time ends after the JSON write, which grows with the lists: resultWrite + perSample · samples. */
export function withResultWrite(span: OfficialSpan, sampleCount: number, m: SpanModel): OfficialSpan {
  return { ...span, timeEndMonoNs: span.monitorEndMonoNs + (m.resultWriteSeconds + m.resultWritePerSampleSeconds * sampleCount) * NS_PER_S };
}

/** A bound on the modelled samples (a 24-h run at 0.1 s is 864 000). */
export const MAX_OFFICIAL_TICKS = 2_000_000;

/** The monitor's sample times: t0 + firstTickDelay + k·(nominal + cost), none after monitorEnd. */
export function officialTicks(span: OfficialSpan, loop: LoopModel): number[] {
  const periodNs = (loop.nominalIntervalSeconds + loop.samplingCostSeconds) * NS_PER_S;
  if (!(periodNs > 0)) throw new RangeError('loop period must be > 0');
  const out: number[] = [];
  for (let k = 0; k < MAX_OFFICIAL_TICKS; k++) {
    const t = span.timeStartMonoNs + loop.firstTickDelaySeconds * NS_PER_S + k * periodNs;
    if (t > span.monitorEndMonoNs) break;
    out.push(t);
  }
  return out;
}

/** Index of the last point at or before t (−1: none), points ascending by monoNs. */
function lastAtOrBefore<T extends { monoNs: number }>(points: readonly T[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].monoNs <= t) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * Our readings linearly interpolated at t (the first or last one outside them). The script reads
 * the device at t; we read it every interval, so a change happened somewhere between two of our
 * readings. Holding the last reading before t would place every change at our later reading (a lag
 * of half an interval on average, biased); the nearest reading is unbiased but on a step is a whole
 * step wrong half the time. Interpolating gives the script's expected reading: on a step at an
 * unknown moment between our readings, never more than half the step wrong, and no bias.
 */
function interpolatedAt<T extends { monoNs: number }>(points: readonly T[], t: number, value: (p: T) => number): number | undefined {
  if (points.length === 0) return undefined;
  const i = lastAtOrBefore(points, t);
  if (i < 0) return value(points[0]);
  const a = points[i];
  const b = points[i + 1];
  if (b === undefined || a.monoNs === t) return value(a);
  return value(a) + ((value(b) - value(a)) * (t - a.monoNs)) / (b.monoNs - a.monoNs);
}

type CpuField = 'userSeconds' | 'systemSeconds' | 'idleSeconds';
const CPU_FIELDS: CpuField[] = ['userSeconds', 'systemSeconds', 'idleSeconds'];

/** The host's cumulative user/system/idle at t, linear between node samples; null outside them. */
function cpuAt(nodes: readonly NodeSample[], t: number): Pick<HostCpuTimes, CpuField> | null {
  const i = lastAtOrBefore(nodes, t);
  if (i < 0) return null;
  const a = nodes[i];
  if (a.monoNs === t) return a.cpu;
  const b = nodes[i + 1];
  if (b === undefined) return null;
  const f = (t - a.monoNs) / (b.monoNs - a.monoNs);
  const out = {} as Pick<HostCpuTimes, CpuField>;
  for (const k of CPU_FIELDS) out[k] = a.cpu[k] + f * (b.cpu[k] - a.cpu[k]);
  return out;
}

/**
 * Moves `busySeconds` of the interval from idle to user: load our counters cannot contain. This is
 * hostCpuUsedPct on the shifted deltas, written out so that no readings are built per tick (a
 * season's export models millions of ticks); the operations and their order are the same.
 */
function withLoad(prev: Pick<HostCpuTimes, CpuField>, next: Pick<HostCpuTimes, CpuField>, busySeconds: number): number {
  const dIdle = next.idleSeconds - prev.idleSeconds;
  const moved = Math.max(0, Math.min(busySeconds, dIdle));
  const dUserSeconds = next.userSeconds - prev.userSeconds + moved;
  const dSystemSeconds = next.systemSeconds - prev.systemSeconds;
  const dIdleSeconds = dIdle - moved;
  return 100 - (100 * dIdleSeconds) / (dUserSeconds + dSystemSeconds + dIdleSeconds + FLARE_CPU_DENOMINATOR_PAD_SECONDS);
}

/** Which node GPUs a run's device request names: indices or UUIDs, 'all' for every one. */
export function nodeGpuUsedMiB(node: NodeSample, gpuDevices: readonly string[]): number | null {
  const all = gpuDevices.includes('all');
  const picked = node.gpus.filter((g) => all || gpuDevices.includes(String(g.index)) || gpuDevices.includes(g.uuid));
  if (picked.length === 0) return null;
  let sum = 0;
  for (const g of picked) {
    if (g.usedMiB === null) return null;
    sum += g.usedMiB;
  }
  return sum;
}

/**
 * The node GPUs a run used when its request does not say (no --gpus, or count:n): the single device
 * whose readings equal the run's own device-level samples at the same ticks most often (at least
 * half of them). null: none matches.
 */
export function inferGpuDevices(samples: readonly RunSample[], nodes: readonly NodeSample[]): string[] | null {
  const hits = new Map<number, number>();
  let known = 0;
  for (const s of samples) {
    if (s.gpuDeviceMiB === null) continue;
    known++;
    const i = lastAtOrBefore(nodes, s.monoNs);
    const n = nodes[i];
    if (!n) continue;
    for (const g of n.gpus) if (g.usedMiB === s.gpuDeviceMiB) hits.set(g.index, (hits.get(g.index) ?? 0) + 1);
  }
  let best: [number, number] | null = null;
  for (const [index, count] of hits) if (best === null || count > best[1]) best = [index, count];
  return best && best[1] * 2 >= known && known > 0 ? [String(best[0])] : null;
}

export interface OfficialTraceInput {
  /** The run's ticks (device-level GPU memory while the container lived). */
  samples: readonly RunSample[];
  /** Host ticks over the span and a little before it (CPU, RAM, device GPU outside the container's life). */
  nodeSamples: readonly NodeSample[];
  /** The run's requested GPUs (indices/UUIDs/'all'); null or empty: inferred (inferGpuDevices), else the run's own samples only. */
  gpuDevices: readonly string[] | null;
}

function inMonoOrder(samples: readonly { monoNs: number }[]): boolean {
  for (let i = 1; i < samples.length; i++) if (samples[i].monoNs < samples[i - 1].monoNs) return false;
  return true;
}

/** The values the monitor would have appended to its three lists, one per tick. */
export interface OfficialTrace {
  periodSeconds: number;
  gpuMiB: number[];
  cpuPct: number[];
  ramMiB: number[];
  /** Ticks whose value could not be formed from our data (left out of that list). */
  missing: { gpu: number; cpu: number; ram: number };
}

/**
 * The modelled monitor lists. GPU: device used memory interpolated between the run's own samples
 * inside their span, between the node's readings of the run's GPUs outside it. CPU: the script's formula over each
 * tick's interval, from the host counters interpolated at the tick times; the first interval
 * reaches back `firstCpuIntervalSeconds` and carries the script's start-up load; every interval
 * carries the loop's own CPU. RAM: the host's used memory, interpolated.
 */
export function officialTrace(input: OfficialTraceInput, span: OfficialSpan, loop: LoopModel): OfficialTrace {
  const ticks = officialTicks(span, loop);
  const runGpu = input.samples.filter((s) => s.gpuDeviceMiB !== null);
  // Stored in time order already, as a rule: copied and sorted only when not (a season's export models 10 000 runs).
  const nodes = inMonoOrder(input.nodeSamples) ? input.nodeSamples : [...input.nodeSamples].sort((a, b) => a.monoNs - b.monoNs);
  const devices = input.gpuDevices && input.gpuDevices.length > 0 && !input.gpuDevices.some((d) => d.startsWith('count:')) ? input.gpuDevices : inferGpuDevices(runGpu, nodes);
  const nodeGpu: { monoNs: number; v: number }[] = [];
  if (devices) {
    for (const n of nodes) {
      const v = nodeGpuUsedMiB(n, devices);
      if (v !== null) nodeGpu.push({ monoNs: n.monoNs, v });
    }
  }
  const out: OfficialTrace = { periodSeconds: loop.nominalIntervalSeconds + loop.samplingCostSeconds, gpuMiB: [], cpuPct: [], ramMiB: [], missing: { gpu: 0, cpu: 0, ram: 0 } };
  const firstRun = runGpu[0]?.monoNs ?? Infinity;
  const lastRun = runGpu.at(-1)?.monoNs ?? -Infinity;
  let prevCpu = cpuAt(nodes, (ticks[0] ?? 0) - loop.firstCpuIntervalSeconds * NS_PER_S);
  for (const [k, t] of ticks.entries()) {
    // GPU
    const inside = t >= firstRun && t <= lastRun + loop.nominalIntervalSeconds * NS_PER_S;
    const gpu = inside || nodeGpu.length === 0 ? interpolatedAt(runGpu, t, (p) => p.gpuDeviceMiB as number) : interpolatedAt(nodeGpu, t, (p) => p.v);
    if (gpu == null) out.missing.gpu++;
    else out.gpuMiB.push(gpu);
    // CPU
    const nextCpu = cpuAt(nodes, t);
    if (prevCpu === null || nextCpu === null) out.missing.cpu++;
    else {
      const busy = k === 0 ? loop.firstCpuBusyCores * loop.firstCpuIntervalSeconds : loop.samplingCpuSeconds;
      out.cpuPct.push(withLoad(prevCpu, nextCpu, busy));
    }
    prevCpu = nextCpu;
    // RAM
    const ram = lastAtOrBefore(nodes, t) < 0 ? undefined : interpolatedAt(nodes, t, (p) => p.memUsedMiB);
    if (ram === undefined) out.missing.ram++;
    else out.ramMiB.push(ram);
  }
  return out;
}
