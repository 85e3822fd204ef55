// The one summarise path: a run's summary from its stored row (which carries its measurement
// settings: nCpu, interval, limit, GPU tolerance, penalties), its samples and its verdict. A normal
// finish (samples held by the run manager) and crash recovery (samples read back from the store) both
// call it, so a recovered run is summarised exactly as it would have been at its end.
import type { RunGpuReadings } from '../core/gpu-run.js';
import type { RunFacts, RunFlag } from '../core/run-facts.js';
import { summarizeRun } from '../core/summary.js';
import { DEFAULT_GPU_TOLERANCE_MIB, FLARE22_PENALTIES, type NodeSample, type Run, type RunSample, type RunStatus, type RunSummary, type TerminationReason } from '../core/types.js';

export interface Verdict {
  status: RunStatus;
  terminationReason: TerminationReason | null;
  exitCode: number | null;
  /** null while the run is still running (a partial summary). */
  endedMonoNs: number | null;
  /** Docker's FinishedAt − StartedAt (ns precision) when known. */
  wallSecondsOverride?: number;
  /** The counter read once more after the processes ended (or just before a kill). */
  finalCpu?: { monoNs: number; cpuSeconds: number };
  flags: RunFlag[];
  /** The run's GPU counters read with the verdict (gpu/run-gpu.ts); null or absent: none. */
  gpu?: RunGpuReadings | null;
  /** The run's facts (Docker's create → start and end → removal, how late it was attached, …). */
  facts?: RunFacts;
}

export function summariseRun(run: Run, samples: RunSample[], nodeSamples: NodeSample[], verdict: Verdict): RunSummary {
  const flags = [...verdict.flags];
  // Rows written before the settings were stored: the defaults, said so.
  if (!run.settings) flags.push('settings-assumed');
  return summarizeRun({
    startedMonoNs: run.startedMonoNs,
    endedMonoNs: verdict.endedMonoNs,
    samples,
    nodeSamples,
    nCpu: run.nCpu,
    intervalMs: run.intervalMs,
    timeLimitSeconds: run.timeLimitSeconds,
    gpuToleranceMiB: run.settings?.gpuToleranceMiB ?? run.summary?.gpuToleranceMiB ?? DEFAULT_GPU_TOLERANCE_MIB,
    penalties: run.settings?.penalties ?? FLARE22_PENALTIES,
    status: verdict.status,
    terminationReason: verdict.terminationReason,
    exitCode: verdict.exitCode,
    wallSecondsOverride: verdict.wallSecondsOverride,
    finalCpu: verdict.finalCpu,
    flags,
    gpu: verdict.gpu ?? null,
    facts: verdict.facts,
  });
}
