// The one summarise path: a run's summary from its stored row (which carries its measurement
// settings: nCpu, interval, limit, GPU tolerance, penalties), its samples and its verdict. A normal
// finish (samples held by the run manager) and crash recovery (samples read back from the store) both
// call it, so a recovered run is summarised exactly as it would have been at its end. A running run's
// partial summary comes from its accumulator (core/running-summary.ts) with the same settings and
// verdict, to the bit what summariseRun makes of the same samples.
import type { RunGpuReadings } from '../core/gpu-run.js';
import type { RunFacts, RunFlag } from '../core/run-facts.js';
import { RunningSummary } from '../core/running-summary.js';
import { summarizeRun, type SummaryVerdictInput } from '../core/summary.js';
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

/** The GPU tolerance a run is measured with: its own setting, else what its summary said, else the default. */
function toleranceOf(run: Run): number {
  return run.settings?.gpuToleranceMiB ?? run.summary?.gpuToleranceMiB ?? DEFAULT_GPU_TOLERANCE_MIB;
}

function verdictInput(run: Run, verdict: Verdict): SummaryVerdictInput {
  const flags = [...verdict.flags];
  // Rows written before the settings were stored: the defaults, said so.
  if (!run.settings) flags.push('settings-assumed');
  return {
    nCpu: run.nCpu,
    intervalMs: run.intervalMs,
    timeLimitSeconds: run.timeLimitSeconds,
    gpuToleranceMiB: toleranceOf(run),
    penalties: run.settings?.penalties ?? FLARE22_PENALTIES,
    status: verdict.status,
    terminationReason: verdict.terminationReason,
    exitCode: verdict.exitCode,
    flags,
    gpu: verdict.gpu ?? null,
    facts: verdict.facts,
  };
}

export function summariseRun(run: Run, samples: RunSample[], nodeSamples: NodeSample[], verdict: Verdict): RunSummary {
  return summarizeRun({
    ...verdictInput(run, verdict),
    startedMonoNs: run.startedMonoNs,
    endedMonoNs: verdict.endedMonoNs,
    samples,
    nodeSamples,
    wallSecondsOverride: verdict.wallSecondsOverride,
    finalCpu: verdict.finalCpu,
  });
}

/** A running run's accumulator, with the settings summariseRun would use for it. */
export function runningSummaryOf(run: Run): RunningSummary {
  return new RunningSummary({ startedMonoNs: run.startedMonoNs, intervalMs: run.intervalMs, timeLimitSeconds: run.timeLimitSeconds, gpuToleranceMiB: toleranceOf(run) });
}

/**
 * The partial summary of a running run from its accumulator (the verdict of a running run: no end, no
 * final read); null where only the whole trace can tell (RunningSummary.summary).
 */
export function summariseRunning(run: Run, running: RunningSummary, verdict: Verdict): RunSummary | null {
  if (verdict.endedMonoNs !== null || verdict.finalCpu || verdict.wallSecondsOverride !== undefined) {
    throw new Error('a running run has no end: summarise an ended run with summariseRun');
  }
  return running.summary(verdictInput(run, verdict));
}
