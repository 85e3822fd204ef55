// Builders for hand-written traces in the core tests. Times are given in seconds since the run's start.
import { DEFAULT_GPU_TOLERANCE_MIB, FLARE22_PENALTIES } from '../../src/core/types.js';
import type { HostCpuTimes, NodeSample, RunSample } from '../../src/core/types.js';
import type { SummaryInput } from '../../src/core/summary.js';

/** An arbitrary monotonic origin (~1.4 h of uptime), so relative-time arithmetic is exercised. */
export const START_NS = 5_000_000_000_000;

export const atNs = (tSeconds: number): number => START_NS + Math.round(tSeconds * 1e9);

export interface Tick {
  t: number;
  cpu?: number | null;
  ram?: number | null;
  gpu?: number | null;
  dev?: number | null;
}

export function runSamples(ticks: Tick[]): RunSample[] {
  return ticks.map((k) => ({
    monoNs: atNs(k.t),
    wallMs: 1_700_000_000_000 + Math.round(k.t * 1000),
    cpuSeconds: k.cpu ?? null,
    ramMiB: k.ram ?? null,
    gpuMiB: k.gpu ?? null,
    gpuDeviceMiB: k.dev ?? null,
  }));
}

export function cpuTimes(userSeconds: number, systemSeconds: number, idleSeconds: number): HostCpuTimes {
  // Fields FLARE ignores are set to non-zero, growing values so a formula that used them would show.
  return {
    userSeconds,
    niceSeconds: userSeconds / 2,
    systemSeconds,
    idleSeconds,
    iowaitSeconds: idleSeconds / 3,
    irqSeconds: 1,
    softirqSeconds: 1,
    stealSeconds: 0,
  };
}

export function nodeSample(t: number, cpu: HostCpuTimes, memUsedMiB: number): NodeSample {
  return { monoNs: atNs(t), wallMs: 1_700_000_000_000 + Math.round(t * 1000), cpu, memUsedMiB, memTotalMiB: 32_000, gpus: [] };
}

/** A finished, completed run ending at endSeconds with FLARE22 defaults; override what a test needs. */
export function input(over: Partial<SummaryInput> & { endSeconds?: number | null } = {}): SummaryInput {
  const { endSeconds = 0, ...rest } = over;
  return {
    startedMonoNs: START_NS,
    endedMonoNs: endSeconds === null ? null : atNs(endSeconds),
    samples: [],
    nodeSamples: [],
    nCpu: 4,
    intervalMs: 100,
    timeLimitSeconds: null,
    gpuToleranceMiB: DEFAULT_GPU_TOLERANCE_MIB,
    penalties: FLARE22_PENALTIES,
    status: 'completed',
    terminationReason: 'exited',
    exitCode: 0,
    ...rest,
  };
}

/** Paths of every number in a value that is NaN or infinite (the summary must have none). */
export function nonFiniteNumbers(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFiniteNumbers(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => nonFiniteNumbers(v, `${path}.${k}`));
  }
  return [];
}
