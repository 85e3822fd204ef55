// GPU figures a sampler cannot give, per run (docs/gpu-accounting.md): the exact per-process peak from
// NVML's accounting records, the energy the run's GPUs used, and who else was on them. Pure: the
// readings come in, the summary fields and flags go out.
import type { RunFlag } from './run-facts.js';
import type { AccountedProcess, GpuCounterFields, RunSummary } from './types.js';

/** The readings of one run, gathered by the GPU recorder (src/gpu/run-gpu.ts). */
export interface RunGpuReadings {
  /** Accounting mode over the run's GPUs: 'on' only when every one of them has it on. */
  accountingMode: 'on' | 'off' | 'unsupported' | 'unknown';
  processes: AccountedProcess[];
  /** Processes with an accounting record that started during the run on its GPUs but never appeared in a sample. */
  unseenAccountedProcesses: number;
  energy: { energyJ: number | null; method: 'counter' | 'power' | null; coveredSeconds: number | null } | null;
  /** Other processes on the run's GPUs during it (any container or the host). */
  sharedDuringRun: boolean;
  /** Other processes holding memory on the run's GPUs at its start. */
  sharedAtStart: { processes: number; usedMiB: number | null } | null;
}

export const MAX_ACCOUNTED_PROCESSES = 64;
/** Sampled and accounted memory are both whole MiB from the same driver; anything above rounding is a spike. */
export const SPIKE_MARGIN_MIB = 1;

export interface AccountingFigures {
  peakGpuMiBAccounting: number | null;
  gpuSpikeMissed: boolean | null;
  gpuTimeSeconds: number | null;
  /** Processes whose record was unknown (0 when all were read). */
  unknownProcesses: number;
  flags: RunFlag[];
}

/** Peak, GPU time and flags from the processes' records, against the sampled max. */
export function accountingFigures(processes: readonly AccountedProcess[], sampledMaxMiB: number | null, marginMiB = SPIKE_MARGIN_MIB): AccountingFigures {
  const flags: RunFlag[] = [];
  if (processes.length === 0) return { peakGpuMiBAccounting: null, gpuSpikeMissed: null, gpuTimeSeconds: null, unknownProcesses: 0, flags };
  const known = processes.filter((p) => p.record === 'ok' && p.peakMiB !== null);
  const unknownCount = processes.length - known.length;
  if (unknownCount > 0) flags.push('gpu-accounting-incomplete');
  if (processes.length > 1 && unknownCount === 0) flags.push('gpu-accounting-peak-upper-bound');
  const peaks = known.map((p) => p.peakMiB as number);
  const peak = unknownCount > 0 ? null : peaks.reduce((a, b) => a + b, 0);
  // One process's own peak is a lower bound of the run's: above the sampled max it proves a missed spike.
  const largest = peaks.length > 0 ? Math.max(...peaks) : null;
  let spike: boolean | null = null;
  if (largest !== null) spike = largest > (sampledMaxMiB ?? 0) + marginMiB;
  else if (unknownCount > 0) spike = null;
  if (spike) flags.push('gpu-spike-missed');
  const times = processes.map((p) => p.gpuTimeSeconds);
  const gpuTimeSeconds = times.every((t): t is number => t !== null) ? times.reduce((a, b) => a + b, 0) : null;
  return { peakGpuMiBAccounting: peak, gpuSpikeMissed: spike, gpuTimeSeconds, unknownProcesses: unknownCount, flags };
}

/** Energy from the driver's counter read at start and end (mJ); null when either is unknown or it went back (driver reload). */
export function energyFromCounterJ(startMj: number | null, endMj: number | null): number | null {
  if (startMj === null || endMj === null || endMj < startMj) return null;
  return (endMj - startMj) / 1000;
}

/** A running trapezoid integral of one GPU's power: the last reading and what it has added up so far. */
export interface PowerIntegral {
  lastSeconds: number | null;
  lastMw: number | null;
  energyJ: number;
  coveredSeconds: number;
}

export const emptyPowerIntegral = (): PowerIntegral => ({ lastSeconds: null, lastMw: null, energyJ: 0, coveredSeconds: 0 });

/**
 * Adds a power reading (mW) at `tSeconds` to the integral: the trapezoid back to the previous reading,
 * in J, where both readings are known and time moved forward. An unknown reading drops the spans on
 * either side (never zero-filled): `coveredSeconds` says how much of the run the energy covers.
 */
export function addPowerReading(acc: PowerIntegral, tSeconds: number, powerMw: number | null): void {
  if (acc.lastSeconds !== null && acc.lastMw !== null && powerMw !== null && tSeconds > acc.lastSeconds) {
    acc.energyJ += ((acc.lastMw + powerMw) / 2 / 1000) * (tSeconds - acc.lastSeconds);
    acc.coveredSeconds += tSeconds - acc.lastSeconds;
  }
  acc.lastSeconds = tSeconds;
  acc.lastMw = powerMw;
}

/** The summary with the readings' fields and flags added (the summary itself is not changed). */
export function withGpuReadings(summary: RunSummary, r: RunGpuReadings): RunSummary {
  // Accounting off or missing: no figures and no 'incomplete' noise; the mode says why.
  const accountingUsable = r.accountingMode !== 'off' && r.accountingMode !== 'unsupported';
  const acc = accountingFigures(accountingUsable ? r.processes : [], summary.maxGpuMiB);
  const flags = new Set(summary.flags);
  const facts: Pick<RunSummary, 'gpuUnseenProcesses' | 'gpuProcessesUnknown' | 'gpuProcessCount'> = {};
  for (const f of acc.flags) flags.add(f);
  if (acc.unknownProcesses > 0) {
    facts.gpuProcessesUnknown = acc.unknownProcesses;
    facts.gpuProcessCount = r.processes.length;
  }
  if (r.accountingMode === 'off') flags.add('gpu-accounting-off');
  if (r.unseenAccountedProcesses > 0) {
    flags.add('gpu-unseen-processes');
    facts.gpuUnseenProcesses = r.unseenAccountedProcesses;
  }
  if (r.sharedAtStart && r.sharedAtStart.processes > 0) flags.add('gpu-shared-at-start');
  if (r.energy?.energyJ !== null && r.energy?.energyJ !== undefined) {
    if (r.sharedDuringRun) flags.add('shared-gpu');
    if (r.energy.method === 'power') flags.add('energy-from-power');
  }
  const fields: GpuCounterFields = {
    gpuAccountingMode: r.accountingMode,
    peakGpuMiBAccounting: acc.peakGpuMiBAccounting,
    gpuSpikeMissed: acc.gpuSpikeMissed,
    gpuTimeSeconds: acc.gpuTimeSeconds,
    gpuProcesses: r.processes.slice(0, MAX_ACCOUNTED_PROCESSES),
    gpuEnergyJ: r.energy?.energyJ ?? null,
    gpuEnergyMethod: r.energy?.energyJ === null || r.energy === null ? null : r.energy.method,
    gpuSharedAtStart: r.sharedAtStart,
  };
  return { ...summary, ...fields, ...facts, flags: [...flags] };
}
