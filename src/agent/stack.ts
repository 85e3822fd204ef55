// The sampling stack shared by the daemon (`start`) and `profile`: host and GPU sources, run manager, sampler.
import { hostname } from 'node:os';
import type { AgentConfig } from './config.js';
import type { Penalties } from '../core/types.js';
import { selectGpuSource } from '../gpu/select.js';
import { describeMounts, detectCgroupMounts, type CgroupMounts } from '../cgroup/mounts.js';
import { CounterHealth } from '../sources/counter-health.js';
import { silentLogger, type Logger } from '../log.js';
import { HostSource } from '../sources/host.js';
import type { GpuSource } from '../gpu/types.js';
import type { Store } from '../store/index.js';
import { createGpuAttributor } from './gpu-attribution.js';
import { RunManager } from './runs.js';
import { inlineSummariser, type Summariser } from './summary-thread.js';
import { Sampler } from './sampler.js';
import type { AgentEvents } from './types.js';
import type { ErrorSink } from './errors.js';
import type { Run } from '../core/types.js';
import { RunGpuRecorder } from '../gpu/run-gpu.js';
import { TickRides } from '../clock/rides.js';

export interface SamplingStack {
  node: string;
  mounts: CgroupMounts | null;
  mountsError: string | null;
  /** Unreadable counters by source (cgroup: per run; host): /healthz and flare_agent_source_up. */
  counters: CounterHealth;
  /** What discovery found and last picked, in words (/healthz `cgroup`); the attachment updates lastPicked. */
  cgroupLayout: { hierarchies: string; lastPicked: string | null };
  host: HostSource;
  gpu: GpuSource;
  /** Why each GPU source other than the active one is not used. */
  gpuReasons: Record<string, string>;
  runs: RunManager;
  sampler: Sampler;
  /** Accounting peak, energy and sharing per run; null without NVML. */
  gpuRecorder: RunGpuRecorder | null;
  /** Where run summaries are computed, in words. */
  summariesOn: string;
  /** Stops sampling and the summariser; call after every run has finished (RunManager.interruptAll). */
  close(): Promise<void>;
}

export function penaltiesOf(config: AgentConfig): Penalties {
  return { timeSeconds: config.penaltyTimeSeconds, aucGpuMiBs: config.penaltyAucGpuMibs, aucCpuPctS: config.penaltyAucCpuPcts };
}

export async function createSamplingStack(
  config: AgentConfig,
  store: Store,
  events: AgentEvents,
  onFinished: (run: Run) => void = () => {},
  log: Logger = silentLogger,
  /** Where summaries are computed; default: on the calling thread (profile, tests). */
  makeSummariser: (store: Store) => Summariser = inlineSummariser,
  /** Where an exception in a tick or a timer is counted (the daemon); null: it is thrown (profile, tests). */
  errors: ErrorSink | null = null,
  /** Periodic work riding the ticks (the daemon's, which its store's flush rides too); default: the stack's own. */
  rides: TickRides = new TickRides(),
): Promise<SamplingStack> {
  let mounts: CgroupMounts | null = null;
  let mountsError: string | null = null;
  try {
    mounts = detectCgroupMounts();
    if (!mounts.v1['cpuacct'] && !mounts.v2) mountsError = 'no cgroup hierarchy with CPU accounting is mounted';
  } catch (e) {
    mountsError = `cannot read /proc/self/mountinfo: ${(e as Error).message}`;
  }
  const counters = new CounterHealth((source, key, flag) => {
    events.sourceError(source);
    log.warn('counter unreadable: its figures are unknown (null), not 0', { source, key, flag });
  });
  const host = new HostSource();
  const { source: gpu, reasons: gpuReasons } = await selectGpuSource({ mode: config.gpuSource, nvmlLib: config.nvmlLib, intervalMs: config.intervalMs });
  const gpuRecorder = gpu.counters ? new RunGpuRecorder(gpu, gpu.counters) : null;
  const summariser = makeSummariser(store);
  const runs = new RunManager(
    store,
    {
      node: hostname(),
      nCpu: host.onlineCpus,
      intervalMs: config.intervalMs,
      gpuToleranceMiB: config.gpuToleranceMib,
      penalties: penaltiesOf(config),
      // Stored figures of a running run (the runs list); the live view has each tick's. Every 5 s for
      // ten runs was 0.2 % of a core on the summary thread at 10 Hz (docs/performance.md).
      partialSummaryEveryMs: 30_000,
    },
    onFinished,
    (run, text) => (text === null ? counters.ok('cgroup', run.id) : counters.fail('cgroup', run.id, `counter-unreadable: ${text}`)),
    gpuRecorder,
    summariser,
  );
  const attributeGpu = createGpuAttributor('/proc', gpuRecorder ? (snapshot, keyOf) => gpuRecorder.observe(snapshot, keyOf) : undefined);
  const sampler = new Sampler({ intervalMs: config.intervalMs, host, gpu, attributeGpu, runs, store, events, counters, errors, rides });
  runs.startPartialSummaries(1000, errors, rides.every);
  return {
    node: hostname(),
    mounts,
    mountsError,
    counters,
    cgroupLayout: { hierarchies: describeMounts(mounts), lastPicked: null },
    host,
    gpu,
    gpuReasons,
    runs,
    sampler,
    gpuRecorder,
    summariesOn: summariser.where,
    async close(): Promise<void> {
      sampler.stop();
      runs.stopPartialSummaries();
      await runs.drain();
      await summariser.close();
      gpu.close();
      host.close();
    },
  };
}

/** Events sink that drops everything (profile mode has no exporter). */
export const noEvents: AgentEvents = { tick() {}, dbWrite() {}, sourceError() {}, runFinished() {}, samplesDropped() {} };
