// What a run is started and ended with, and the settings the run manager measures under: the
// contract between the targets (Docker, containerd, profile) and the RunManager (runs.ts).
import type { TargetGpuUse } from '../core/attribution.js';
import type { RunFacts, RunFlag } from '../core/run-facts.js';
import type { Penalties, Run, RunIdentity, RunStatus, TerminationReason } from '../core/types.js';
import type { CgroupReading } from '../cgroup/types.js';

/** Reads one target's counters (a cgroup, or the /proc process-tree fallback). */
export interface CounterReader {
  read(): CgroupReading;
  close(): void;
}

export interface RunStartSpec {
  identity: RunIdentity;
  reader: CounterReader;
  /** Key the GPU attribution maps this run's processes to (container id, or cgroup path); null: no GPU figures. */
  gpuKey: string | null;
  startedWallMs: number;
  startedMonoNs: number;
  timeLimitSeconds: number | null;
  previousRunId?: string | null;
  flags?: RunFlag[];
  /** The run's facts known at its start (Docker's create → start, how late it was attached, …). */
  facts?: RunFacts;
  /**
   * The target's enforcement (Docker: kill the container; profile: kill its cgroup group), called
   * exactly once when the run's deadline passes, right after a last counter read. Absent: the limit
   * is only judged in the summary.
   */
  enforce?: (run: Run) => void;
}

export interface RunEndSpec {
  status: RunStatus;
  terminationReason: TerminationReason;
  exitCode: number | null;
  endedWallMs: number;
  endedMonoNs: number;
  /** Docker's FinishedAt − StartedAt (ns precision) when known. */
  wallSecondsOverride?: number;
  flags?: RunFlag[];
  /** Facts learnt with the end (what named an OOM kill, …). */
  facts?: RunFacts;
}

/** Per-tick GPU figures for one run's key, from the attribution step. */
export type GpuShare = TargetGpuUse;

export interface RunSettings {
  node: string;
  nCpu: number;
  intervalMs: number;
  gpuToleranceMiB: number;
  penalties: Penalties;
  /**
   * Least time between two partial summaries of a running run (ms), so readers see figures while it
   * runs. It stretches with the trace (partialSummaryInterval, runs.ts): a summary costs ~1 µs per sample.
   */
  partialSummaryEveryMs: number;
}
