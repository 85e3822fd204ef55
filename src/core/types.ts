// The measurement contract shared by every part of the agent (docs/measurement.md; README "HTTP API").
// Pure data: no I/O here. Every number carries its unit in its name.
import type { RunFacts, RunFlag } from './run-facts.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'oom' | 'timeout' | 'interrupted';

/** Why a run ended, kept apart from whether it exceeded its limit (as BenchExec does). */
export type TerminationReason =
  | 'exited'
  | 'killed at time limit'
  | 'oom'
  | 'killed externally'
  | 'agent interrupted';

export type RunKind = 'container' | 'profile';

/** Who/what a run is. Labels and names come from Docker and are untrusted: stored as given (length-limited). */
/** The container runtime a container run was measured through (absent: a profiled process, or a row older than schema 8). */
export type ContainerRuntime = 'docker' | 'containerd';

export interface RunIdentity {
  kind: RunKind;
  /** The runtime that ran the container: recovery asks that runtime how a left-running run ended. */
  runtime?: ContainerRuntime;
  team: string;
  case: string;
  node: string;
  containerId?: string;
  containerName?: string;
  image?: string;
  imageId?: string;
  /** GPU indices/UUIDs requested in HostConfig.DeviceRequests ("all" when unrestricted). */
  gpuDevices?: string[];
  command?: string;
  /** Where the organiser placed the run (CPU set, memory, NUMA node, pool slot); absent: not known. */
  placement?: RunPlacement;
}

/**
 * A run's placement as the organiser set it: the container's HostConfig (what Docker enforces) and
 * evaluate's slot labels (trusted only when set at create, as every label). null: not set.
 */
export interface RunPlacement {
  /** evaluate --gpus pool slot (label flare.slot). */
  slot: number | null;
  /** HostConfig.CpusetCpus, e.g. "0-3,8". */
  cpusetCpus: string | null;
  /** HostConfig.CpusetMems: the NUMA nodes its memory may come from. */
  cpusetMems: string | null;
  /** The NUMA node local to its GPU (label flare.numa_node). */
  numaNode: number | null;
  /** HostConfig.Memory (null: unlimited). */
  memoryLimitMiB: number | null;
  /** HostConfig.ShmSize (/dev/shm). */
  shmSizeMiB: number | null;
  /**
   * The GPU indices its device request resolves to on this node (indices, UUIDs, and `--gpus N` as
   * Docker maps it: GPUs 0…N-1); null: no request, `--gpus all`, or unknown GPUs.
   */
  gpuIndices: number[] | null;
  /** MIG devices (MIG-… UUIDs) its request names; absent or null: none. */
  migUuids?: string[] | null;
}

/** One tick of one run. Times are the tick's actual times, not nominal ones. */
export interface RunSample {
  /** CLOCK_MONOTONIC in nanoseconds (process.hrtime.bigint() converted to number). */
  monoNs: number;
  /** Wall clock, ms since the epoch. */
  wallMs: number;
  /** Cumulative CPU time of the run's cgroup since it was created (null: could not be read). */
  cpuSeconds: number | null;
  /** Memory working set (usage − inactive_file) (null: could not be read). */
  ramMiB: number | null;
  /**
   * GPU memory held by the run's own processes, summed over GPUs.
   * null = unknown this tick (no GPU source, source down, or a process reported "not available").
   */
  gpuMiB: number | null;
  /** Device-level used memory (total − free) summed over the GPUs the run uses: the official source. */
  gpuDeviceMiB: number | null;
}

/** Host-wide CPU time counters from /proc/stat, in seconds (cumulative since boot). */
export interface HostCpuTimes {
  userSeconds: number;
  niceSeconds: number;
  systemSeconds: number;
  idleSeconds: number;
  iowaitSeconds: number;
  irqSeconds: number;
  softirqSeconds: number;
  stealSeconds: number;
}

export interface GpuDeviceSample {
  index: number;
  uuid: string;
  usedMiB: number | null;
  totalMiB: number | null;
  utilPct: number | null;
  /** Energy counter (mJ since the driver loaded; NVML only, refreshed ≤ 1/s; not stored). */
  energyMj?: number | null;
}

/** Memory of one MIG device on one tick (live only: /metrics and the run's device figure, not stored). */
export interface MigDeviceSample {
  uuid: string;
  parentIndex: number;
  usedMiB: number | null;
  totalMiB: number | null;
}

/** One tick of the node (host-wide). Feeds node panels and the official-compatible formulas. */
export interface NodeSample {
  monoNs: number;
  wallMs: number;
  cpu: HostCpuTimes;
  memUsedMiB: number;
  memTotalMiB: number;
  gpus: GpuDeviceSample[];
  /** MIG devices (live only: not stored with the node sample). */
  mig?: MigDeviceSample[];
}

/** Scoring penalties for a run over its time limit (FLARE22 Evaluation page defaults). */
export interface Penalties {
  timeSeconds: number;
  aucGpuMiBs: number;
  aucCpuPctS: number;
}

export const FLARE22_PENALTIES: Penalties = {
  timeSeconds: 3600,
  aucGpuMiBs: 3600 * (10240 - 2048),
  aucCpuPctS: 3600 * 100,
};

export const DEFAULT_GPU_TOLERANCE_MIB = 2048;

/**
 * FLARE22's formulas (sums × the nominal interval, the stable max) over this run's own span and ticks.
 * Not the official figures: those come from the challenge profile's model of the organisers' monitor
 * (src/official/, docs/scoring.md), whose span, loop and host differ.
 */
export interface FlareFormulasBlock {
  /** The nominal interval the sums are multiplied by (s). */
  nominalIntervalSeconds: number;
  sampleCount: number;
  aucGpuMiBs: number | null;
  /** FLARE22: largest value present in more than 2 % of samples. */
  maxGpuStableMiB: number | null;
  /** FLARE24: plain maximum. */
  maxGpuMiB: number | null;
  aucCpuPctS: number | null;
  maxCpuStablePct: number | null;
  maxCpuPct: number | null;
  aucRamMiBs: number | null;
  maxRamStableMiB: number | null;
  maxRamMiB: number | null;
}

/** A GPU of the node as its source reports it. */
export interface GpuDevice {
  index: number;
  uuid: string;
  name: string;
  totalMiB: number;
}

/** A process holding memory on a GPU (one row of the driver's process list). */
export interface GpuProcess {
  pid: number;
  gpuIndex: number;
  usedMiB: number | null;
  /** The MIG device it runs in; absent with MIG off, null in a MIG instance the agent does not know. */
  migUuid?: string | null;
}

/** What the agent records about its node at start (GPUs, CPU, memory, OS). */
export interface NodeInventory {
  node: string;
  cpuModel: string;
  cpuCores: number;
  memTotalMiB: number;
  os: string;
  kernel: string;
  gpus: GpuDevice[];
  agentVersion: string;
  recordedWallMs: number;
}

/** What became of one of the run's GPU processes in the driver's accounting buffer. */
export type AccountingRecordState =
  /** The record was read. */
  | 'ok'
  /** No record: the pid fell out of the circular buffer (or the record is a recycled pid's): unknown, never 0. */
  | 'not-in-buffer'
  /** Accounting is off or unsupported on that GPU. */
  | 'unavailable'
  | 'error';

export interface AccountedProcess {
  pid: number;
  gpuIndex: number;
  record: AccountingRecordState;
  /** Most memory the process ever had allocated (MiB); null: unknown. */
  peakMiB: number | null;
  /** Lifetime of its GPU context (s); null: unknown. */
  gpuTimeSeconds: number | null;
  /** Average SM utilisation over its life (%); null: unknown. */
  gpuUtilPct: number | null;
}

/** The summary fields the GPU counters add (core/gpu-run.ts; all optional on RunSummary: older summaries lack them). */
export interface GpuCounterFields {
  /** Accounting mode on the run's GPUs ('on' | 'off' | 'unsupported' | 'unknown'). */
  gpuAccountingMode: string;
  /**
   * Exact peak from the driver's accounting: one process → its peak; several → the sum of their peaks,
   * an upper bound (flag 'gpu-accounting-peak-upper-bound'); null when any process's record is unknown.
   */
  peakGpuMiBAccounting: number | null;
  /** A process's accounting peak exceeds the sampled maxGpuMiB: a spike between two ticks. */
  gpuSpikeMissed: boolean | null;
  /** Sum of the processes' GPU context lifetimes (s); null when any is unknown. */
  gpuTimeSeconds: number | null;
  /** Per-process accounting records (at most MAX_ACCOUNTED_PROCESSES). */
  gpuProcesses: AccountedProcess[];
  gpuEnergyJ: number | null;
  gpuEnergyMethod: 'counter' | 'power' | null;
  gpuSharedAtStart: { processes: number; usedMiB: number | null } | null;
}

/** Each list matches any of its values (a repeated --team, or ?team=a&team=b); the fields combine with AND. */
export interface RunFilter {
  team?: string[];
  case?: string[];
  status?: RunStatus[];
  node?: string[];
  /** Runs started at or after this wall time (ms). */
  sinceWallMs?: number;
  /** Runs started before this wall time (ms). */
  untilWallMs?: number;
}

/** Where an official span came from: the harness's own times, Docker's events, or the profile's model. */
export type OfficialSpanSource = 'harness' | 'docker-events' | 'modelled';

/**
 * A run's official figures: the organisers' monitor modelled over it under a challenge profile
 * (src/official/). Here because the store keeps them (official_figures) below the model.
 */
export interface OfficialFigures {
  timeSeconds: number;
  maxGpuMiB: number | null;
  aucGpuMiBs: number | null;
  maxCpuPct: number | null;
  aucCpuPctS: number | null;
  maxRamMiB: number | null;
  aucRamMiBs: number | null;
  /** Modelled samples per list, and the modelled real period (s). */
  sampleCount: number;
  periodSeconds: number;
  spanSource: OfficialSpanSource;
}

/** The values a ranking uses: measured ones, or the penalties for a run over its limit. */
export interface ScoringBlock {
  timeSeconds: number;
  aucGpuMiBs: number | null;
  /** null when the CPU counter could not be read (unknown, never 0). */
  aucCpuPctS: number | null;
  penalised: boolean;
}

/**
 * The per-run summary the scoring pipeline reads (docs/measurement.md §2 names). The GPU counter fields
 * (accounting peak, energy, sharing; src/core/gpu-run.ts) are optional: only an NVML agent adds them.
 * Its facts (core/run-facts.ts) are typed fields too; its flags are words for humans.
 */
export interface RunSummary extends Partial<GpuCounterFields>, RunFacts {
  status: RunStatus;
  terminationReason: TerminationReason | null;
  exitCode: number | null;
  wallSeconds: number;
  /** The cgroup CPU counter at the end; null when it could not be read at all (unknown, never 0). */
  cpuSeconds: number | null;
  /** Online CPUs of the node, the FLARE normalisation. */
  nCpu: number;
  /** 100 × cpuSeconds / nCpu: FLARE unit (% of the whole host · s). */
  aucCpuPctS: number | null;
  /** 100 × cpuSeconds: % of one core · s. */
  aucCpuCorePctS: number | null;
  /** Largest interval utilisation, host-normalised (%). */
  maxCpuPct: number | null;
  /** Largest interval utilisation in % of one core. */
  maxCpuCorePct: number | null;
  gpuToleranceMiB: number;
  aucGpuMiBs: number | null;
  maxGpuMiB: number | null;
  aucGpuDeviceMiBs: number | null;
  maxGpuDeviceMiB: number | null;
  aucRamMiBs: number | null;
  maxRamMiB: number | null;
  sampleCount: number;
  intervalMs: number;
  /** Seconds between the first and last sample actually used. */
  coveredSeconds: number;
  /** Run start → first sample (s). */
  unsampledHeadSeconds: number;
  /** Last sample → run end (s). */
  unsampledTailSeconds: number;
  /** Upper bound of CPU that the unsampled tail could hide: tail × nCpu cores (s). */
  tailCpuBoundSeconds: number;
  timeLimitSeconds: number | null;
  exceededTimeLimit: boolean;
  scoring: ScoringBlock;
  flareFormulas: FlareFormulasBlock;
  /** Caveats for humans, words from one closed list (RUN_FLAGS): 'gpu-unavailable', 'attached-late', … */
  flags: RunFlag[];
}

/**
 * What a ranking reads of a run: identity, status and the summary's scoring figures. A Run has all
 * of it; the store reads just this for a season's runs (store.scoringRuns) without the rest.
 */
export interface ScoringRun {
  id: string;
  team: string;
  case: string;
  status: RunStatus;
  startedWallMs: number;
  /** The run this one continues (an agent restart while its container ran): one attempt with it. */
  previousRunId: string | null;
  summary: Pick<RunSummary, 'wallSeconds' | 'gpuToleranceMiB' | 'scoring'> | null;
}

/** A stored run: identity + lifecycle times + summary (null while running). */
export interface Run extends RunIdentity {
  id: string;
  status: RunStatus;
  /** Start/end on the wall clock (ms since epoch) and on the monotonic clock (ns). */
  startedWallMs: number;
  startedMonoNs: number;
  endedWallMs: number | null;
  endedMonoNs: number | null;
  timeLimitSeconds: number | null;
  nCpu: number;
  intervalMs: number;
  /** Earlier run this one continues (agent restarted while the container ran). */
  previousRunId: string | null;
  summary: RunSummary | null;
  /**
   * The scoring settings the run is measured with, stored with it so that any later summary of it
   * (its end, or crash recovery) uses the same ones. Absent on runs from older agents.
   */
  settings?: RunSettingsStored;
}

/** Measurement settings kept on a run's row (nCpu, intervalMs and the limit are columns of their own). */
export interface RunSettingsStored {
  gpuToleranceMiB: number;
  penalties: Penalties;
}
