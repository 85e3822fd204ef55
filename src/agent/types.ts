// What the running agent exposes to its readers (HTTP API, /metrics, web page) and what it reports to.
import type { GpuDevice, NodeSample, Run, RunSample } from '../core/types.js';
import type { SourceStatus } from '../sources/types.js';

export type SourceName = 'docker' | 'containerd' | 'gpu' | 'cgroup' | 'host' | 'sqlite';

/** A run in flight with its latest figures. */
export interface LiveRun {
  run: Run;
  last: RunSample | null;
  /** Utilisation over the last interval, % of one core. */
  cpuCorePct: number | null;
  /** Process-attributed GPU memory per GPU index over the last tick. */
  gpuMiBByIndex: Record<number, number | null>;
  /** Per device (a GPU, or a MIG device of it: core/attribution.ts deviceKey). */
  gpuMiBByDevice?: Record<string, number | null>;
  /** Other processes on the run's GPUs at the latest tick, per GPU index (GPUs without any are left out). */
  gpuForeignProcesses?: Record<number, number>;
  elapsedSeconds: number;
}

export interface Health {
  node: string;
  version: string;
  startedWallMs: number;
  intervalMs: number;
  /** requested: --gpu-source as given (auto, nvml, nvidia-smi, none); active: what is sampled. */
  gpuSource: { requested?: string; active: string; reasons: Record<string, string> };
  /** null, or the one notice that NVML accounting is off (read once at start). */
  gpuAccounting?: string | null;
  /** GPU indices with NVML accounting on and off (read once at start; unsupported ones in neither). */
  gpuAccountingModes?: { on: number[]; off: number[] };
  /** Whether a run is killed at its time limit (--enforce-time-limit), else only marked. */
  timeLimitEnforced?: boolean;
  /** --kill-grace-seconds (s). */
  killGraceSeconds?: number;
  /** --runtime as configured, and the runtimes attached to (auto: those whose socket exists). */
  runtime: { requested: string; attached: string[] };
  sources: Record<SourceName, SourceStatus>;
  /** The cgroup hierarchies the mount table shows, and the one discovery last picked for a target. */
  cgroup: { hierarchies: string; lastPicked: string | null };
  ticks: { count: number; missed: number };
  /** The write side of the database: samples waiting (bounded), run starts and verdicts waiting (never dropped). */
  store?: { queuedSamples: number; pendingRuns: number; pendingVerdicts: number };
  /** Errors after start, by where they happened (agent/errors.ts): logged and counted, never fatal. */
  errors?: Record<string, number>;
}

/** Read-only view of the agent's live state. */
export interface LiveView {
  liveRuns(): LiveRun[];
  lastNodeSample(): NodeSample | null;
  gpuDevices(): GpuDevice[];
  health(): Health;
}

/** Events the agent reports; the Prometheus exporter implements this. */
export interface AgentEvents {
  tick(lagSeconds: number, missedTicks: number): void;
  dbWrite(seconds: number, samplesWritten: number): void;
  sourceError(source: SourceName): void;
  runFinished(run: Run): void;
  /** Samples dropped unwritten (the write queue was full). */
  samplesDropped(n: number): void;
}
