// One attached container's run while it lives: the cgroup reader behind it, its populated watch,
// its pending kill and what the events said about its end. Closing it closes the run.
import type { CounterReader } from '../agent/run-spec.js';
import type { RunManager } from '../agent/runs.js';
import type { Cancel } from './kill.js';
import type { RunFacts, RunFlag } from '../core/run-facts.js';
import type { EndVerdict } from './end.js';
import type { PopulatedWatch } from '../cgroup/populated.js';
import type { Logger } from '../log.js';
import type { OomKillCount } from '../cgroup/oom-count.js';

/** Reader for a container whose cgroup could not be found: the run exists, without counters. */
export const nullReader: CounterReader = { read: () => ({ cpuSeconds: null, ramMiB: null }), close() {} };

export interface TrackedRun {
  containerId: string;
  runId: string;
  /** The runtime's start of this life (epoch ns; when seen if the runtime does not say) and the same instant on the monotonic clock. */
  startedAtNs: bigint;
  startedMonoNs: number;
  /** The runtime gave the start time (false: it is when the container was seen). */
  startKnown: boolean;
  populated: PopulatedWatch | null;
  kill: Cancel | null;
  /** A kill that could not be sent, to be sent again (until the container is gone). */
  killRetry: NodeJS.Timeout | null;
  /** Kills sent to the runtime and not answered yet. */
  killsInFlight: number;
  /** The container's own cgroup directories (v2 first), through which a kill the runtime refused is sent. */
  cgroupDirs: string[];
  /** The kernel's OOM-kill count of its memory cgroup (null: no memory cgroup). */
  oomCount: OomKillCount | null;
  /** The count was read at (or after) the container's end: it is final. */
  oomCountFinal: boolean;
  /** When cgroup.events said `populated 0` (monotonic ns), null until then. */
  emptiedMonoNs: number | null;
  sawOom: boolean;
  killedByAgent: boolean;
  /** The runtime refused the agent's SIGKILL and the agent killed through the cgroup (enforce.ts). */
  killedThroughCgroup: boolean;
  /** The cgroup kill was denied (no privilege): said once (flag kill-impossible). */
  killImpossible: boolean;
  killedExternally: boolean;
  /** Signals the agent sent whose `kill` events have not arrived yet (runtimes with kill events). */
  ownKillsPending: number;
}

export function newTracked(containerId: string, runId: string, startedAtNs: bigint, startedMonoNs: number, startKnown: boolean): TrackedRun {
  return {
    containerId,
    runId,
    startedAtNs,
    startedMonoNs,
    startKnown,
    populated: null,
    kill: null,
    killRetry: null,
    killsInFlight: 0,
    cgroupDirs: [],
    oomCount: null,
    oomCountFinal: false,
    emptiedMonoNs: null,
    sawOom: false,
    killedByAgent: false,
    killedThroughCgroup: false,
    killImpossible: false,
    killedExternally: false,
    ownKillsPending: 0,
  };
}

export function releaseTracked(t: TrackedRun): void {
  t.populated?.close();
  t.kill?.cancel();
  if (t.killRetry) clearTimeout(t.killRetry);
  t.oomCount?.close();
  t.populated = null;
  t.kill = null;
  t.killRetry = null;
  t.oomCount = null;
}

/**
 * Closes the run. With the runtime's end time the end sits on the monotonic clock at exactly
 * start + (end − start), and the wall time is the runtime's own (Docker: ns precision).
 */
export function finishTracked(runs: RunManager, t: TrackedRun, verdict: EndVerdict, finishedAtNs: bigint | null, flags: RunFlag[], facts: RunFacts, log: Logger): Promise<void> {
  releaseTracked(t);
  let endedMonoNs: number;
  let endedWallMs: number;
  let wallSecondsOverride: number | undefined;
  if (finishedAtNs !== null && finishedAtNs >= t.startedAtNs) {
    const spanNs = finishedAtNs - t.startedAtNs;
    endedMonoNs = t.startedMonoNs + Number(spanNs);
    endedWallMs = Number(finishedAtNs / 1_000_000n);
    wallSecondsOverride = Number(spanNs) / 1e9;
  } else {
    // No end time from the runtime (the container vanished): end at the last reading, so nothing is invented.
    endedMonoNs = runs.samplesOf(t.runId)?.at(-1)?.monoNs ?? t.startedMonoNs;
    endedWallMs = runs.samplesOf(t.runId)?.at(-1)?.wallMs ?? Number(t.startedAtNs / 1_000_000n);
  }
  // Never rejects: the attachment's per-container queue goes on; a verdict that cannot be written is logged.
  return runs.finish(t.runId, { ...verdict, endedMonoNs, endedWallMs, wallSecondsOverride, flags, facts }).then(
    () => undefined,
    (err: Error) => log.error('run verdict could not be recorded', { runId: t.runId, containerId: t.containerId, error: err.message }),
  );
}
