// Prometheus exporter (DESIGN.md §4): prefix flare_, base units, _total counters, bounded labels.
// Live series are computed from the LiveView inside collect() callbacks, i.e. only when Prometheus
// scrapes: the sampler never waits for a scrape, and a container's series vanish when it ends
// because every live gauge/counter is reset before it is refilled.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeSample, Run } from '../core/types.js';
import type { AgentEvents, Health, LiveRun, LiveView, SourceName } from '../agent/types.js';
import type { GpuDevice } from '../sources/types.js';

const MIB = 1024 * 1024;
/** Label values come from untrusted container labels/names: keep them short. */
const MAX_LABEL_CHARS = 128;
const SOURCES: SourceName[] = ['docker', 'gpu', 'cgroup', 'sqlite'];
const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

export function labelValue(value: string | undefined | null): string {
  if (!value) return '';
  return value.length > MAX_LABEL_CHARS ? value.slice(0, MAX_LABEL_CHARS) : value;
}

/** What one scrape reads from the LiveView, read once and shared by every collect() of that scrape. */
interface Frame {
  runs: LiveRun[];
  node: NodeSample | null;
  devices: GpuDevice[];
  health: Health;
}

const RUN_LABELS = ['team', 'case', 'container'] as const;
type RunLabel = (typeof RUN_LABELS)[number];

function runLabels(run: Run): Record<RunLabel, string> {
  return { team: labelValue(run.team), case: labelValue(run.case), container: labelValue(run.containerName) };
}

export class AgentMetrics implements AgentEvents {
  readonly registry: Registry;
  private readonly live: LiveView;
  private frameCache: Frame | null = null;

  private readonly runsFinished: Counter<'status' | 'team'>;
  private readonly runDuration: Histogram<'team'>;
  private readonly tickLag: Histogram<string>;
  private readonly ticks: Counter<string>;
  private readonly missedTicks: Counter<string>;
  private readonly sourceErrors: Counter<'source'>;
  private readonly dbWriteDuration: Histogram<string>;
  private readonly samplesStored: Counter<string>;

  constructor(opts: { live: LiveView; registry?: Registry }) {
    this.live = opts.live;
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    const frame = (): Frame => this.frame();

    // --- per running container -------------------------------------------------------------
    new Counter({
      name: 'flare_container_cpu_seconds_total',
      help: 'CPU time used by a running container (cgroup counter), seconds.',
      labelNames: RUN_LABELS,
      registers,
      collect() {
        this.reset();
        for (const r of frame().runs) {
          const v = r.last?.cpuSeconds;
          if (v != null && v >= 0) this.inc(runLabels(r.run), v);
        }
      },
    });
    new Gauge({
      name: 'flare_container_cpu_utilization_ratio',
      help: 'CPU utilisation of a running container over the last sample interval; 1 = one full core.',
      labelNames: RUN_LABELS,
      registers,
      collect() {
        this.reset();
        for (const r of frame().runs) if (r.cpuCorePct != null) this.set(runLabels(r.run), r.cpuCorePct / 100);
      },
    });
    new Gauge({
      name: 'flare_container_memory_working_set_bytes',
      help: 'Memory working set (usage minus inactive file cache) of a running container, bytes.',
      labelNames: RUN_LABELS,
      registers,
      collect() {
        this.reset();
        for (const r of frame().runs) {
          const v = r.last?.ramMiB;
          if (v != null) this.set(runLabels(r.run), v * MIB);
        }
      },
    });
    new Gauge({
      name: 'flare_container_gpu_memory_bytes',
      help: "GPU memory held by a running container's own processes on one GPU, bytes.",
      labelNames: [...RUN_LABELS, 'gpu'],
      registers,
      collect() {
        this.reset();
        for (const r of frame().runs) {
          for (const [index, mib] of Object.entries(r.gpuMiBByIndex)) {
            if (mib != null) this.set({ ...runLabels(r.run), gpu: index }, mib * MIB);
          }
        }
      },
    });
    new Gauge({
      name: 'flare_container_elapsed_seconds',
      help: 'Seconds since a running container started.',
      labelNames: RUN_LABELS,
      registers,
      collect() {
        this.reset();
        for (const r of frame().runs) this.set(runLabels(r.run), r.elapsedSeconds);
      },
    });
    new Gauge({
      name: 'flare_container_time_limit_seconds',
      help: 'Time limit of a running container, seconds (absent when it has none).',
      labelNames: RUN_LABELS,
      registers,
      collect() {
        this.reset();
        for (const r of frame().runs) {
          if (r.run.timeLimitSeconds != null) this.set(runLabels(r.run), r.run.timeLimitSeconds);
        }
      },
    });
    new Gauge({
      name: 'flare_runs_running',
      help: 'Runs (containers or profiled commands) being measured now.',
      registers,
      collect() {
        this.set(frame().runs.length);
      },
    });

    // --- per GPU device ---------------------------------------------------------------------
    const gpuGauge = (name: string, help: string, pick: (g: NodeSample['gpus'][number]) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['gpu', 'uuid'],
        registers,
        collect() {
          this.reset();
          for (const g of frame().node?.gpus ?? []) {
            const v = pick(g);
            if (v != null) this.set({ gpu: String(g.index), uuid: labelValue(g.uuid) }, v);
          }
        },
      });
    gpuGauge('flare_gpu_memory_used_bytes', 'Device-level used GPU memory (total - free), bytes.', (g) =>
      g.usedMiB == null ? null : g.usedMiB * MIB,
    );
    new Gauge({
      name: 'flare_gpu_memory_total_bytes',
      help: 'Total memory of a GPU, bytes.',
      labelNames: ['gpu', 'uuid'],
      registers,
      collect() {
        this.reset();
        const f = frame();
        const seen = new Set<number>();
        for (const g of f.node?.gpus ?? []) {
          if (g.totalMiB == null) continue;
          seen.add(g.index);
          this.set({ gpu: String(g.index), uuid: labelValue(g.uuid) }, g.totalMiB * MIB);
        }
        // Before the first node sample the inventory still knows each device's size.
        for (const d of f.devices) {
          if (!seen.has(d.index)) this.set({ gpu: String(d.index), uuid: labelValue(d.uuid) }, d.totalMiB * MIB);
        }
      },
    });
    gpuGauge('flare_gpu_utilization_ratio', 'GPU compute utilisation over the driver sample period; 1 = 100 %.', (g) =>
      g.utilPct == null ? null : g.utilPct / 100,
    );

    // --- per node ---------------------------------------------------------------------------
    new Counter({
      name: 'flare_node_cpu_seconds_total',
      help: 'Host CPU time by mode, summed over all CPUs (/proc/stat), seconds.',
      labelNames: ['mode'],
      registers,
      collect() {
        this.reset();
        const cpu = frame().node?.cpu;
        if (!cpu) return;
        for (const mode of CPU_MODES) this.inc({ mode }, Math.max(0, cpu[`${mode}Seconds`]));
      },
    });
    new Gauge({
      name: 'flare_node_memory_used_bytes',
      help: 'Host memory in use, bytes.',
      registers,
      collect() {
        this.reset();
        const n = frame().node;
        if (n) this.set(n.memUsedMiB * MIB);
      },
    });
    new Gauge({
      name: 'flare_node_memory_total_bytes',
      help: 'Host memory installed, bytes.',
      registers,
      collect() {
        this.reset();
        const n = frame().node;
        if (n) this.set(n.memTotalMiB * MIB);
      },
    });

    // --- finished runs ----------------------------------------------------------------------
    this.runsFinished = new Counter({
      name: 'flare_runs_finished_total',
      help: 'Runs that ended, by final status and team.',
      labelNames: ['status', 'team'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'flare_run_duration_seconds',
      help: 'Wall time of finished runs, seconds.',
      labelNames: ['team'],
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers,
    });

    // --- the agent's own health ---------------------------------------------------------------
    this.tickLag = new Histogram({
      name: 'flare_agent_tick_lag_seconds',
      help: 'How late each sampler tick started relative to its schedule, seconds.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.ticks = new Counter({ name: 'flare_agent_ticks_total', help: 'Sampler ticks run.', registers });
    this.missedTicks = new Counter({
      name: 'flare_agent_missed_ticks_total',
      help: 'Sampler ticks skipped because an earlier tick ran too late.',
      registers,
    });
    new Gauge({
      name: 'flare_agent_source_up',
      help: 'Whether a measurement source works (1) or not (0).',
      labelNames: ['source'],
      registers,
      collect() {
        const sources = frame().health.sources;
        for (const s of SOURCES) this.set({ source: s }, sources[s]?.up ? 1 : 0);
      },
    });
    this.sourceErrors = new Counter({
      name: 'flare_agent_source_errors_total',
      help: 'Failed reads from a measurement source.',
      labelNames: ['source'],
      registers,
    });
    for (const s of SOURCES) this.sourceErrors.inc({ source: s }, 0);
    this.dbWriteDuration = new Histogram({
      name: 'flare_agent_db_write_duration_seconds',
      help: 'Duration of one batched SQLite write transaction, seconds.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.samplesStored = new Counter({
      name: 'flare_agent_samples_stored_total',
      help: 'Samples written to the database.',
      registers,
    });
    new Gauge({
      name: 'flare_agent_gpu_source_info',
      help: 'The GPU source in use (nvml, nvidia-smi or none); value is always 1.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        this.set({ source: labelValue(frame().health.gpuSource.active) }, 1);
      },
    });
    new Gauge({
      name: 'flare_agent_info',
      help: 'Agent build information; value is always 1.',
      labelNames: ['version'],
      registers,
      collect() {
        this.reset();
        this.set({ version: labelValue(frame().health.version) }, 1);
      },
    });
    new Gauge({
      name: 'flare_agent_start_time_seconds',
      help: 'When the agent started, seconds since the Unix epoch.',
      registers,
      collect() {
        this.set(frame().health.startedWallMs / 1000);
      },
    });
  }

  /** Prometheus text exposition of every metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One tick ran `lagSeconds` late; `missedTicks` ticks were skipped just before it (not a running total). */
  tick(lagSeconds: number, missedTicks: number): void {
    this.ticks.inc();
    this.tickLag.observe(Math.max(0, lagSeconds));
    if (missedTicks > 0) this.missedTicks.inc(missedTicks);
  }

  dbWrite(seconds: number, samplesWritten: number): void {
    this.dbWriteDuration.observe(Math.max(0, seconds));
    if (samplesWritten > 0) this.samplesStored.inc(samplesWritten);
  }

  sourceError(source: SourceName): void {
    this.sourceErrors.inc({ source });
  }

  runFinished(run: Run): void {
    const team = labelValue(run.team);
    this.runsFinished.inc({ status: run.status, team });
    const wallSeconds =
      run.summary?.wallSeconds ?? (run.endedWallMs != null ? (run.endedWallMs - run.startedWallMs) / 1000 : null);
    if (wallSeconds != null && wallSeconds >= 0) this.runDuration.observe({ team }, wallSeconds);
  }

  /**
   * Reads the LiveView once per scrape: prom-client starts every metric's collect() in the same
   * synchronous pass, so a cache cleared on the next microtask spans exactly one scrape.
   */
  private frame(): Frame {
    if (this.frameCache) return this.frameCache;
    const f: Frame = {
      runs: this.live.liveRuns(),
      node: this.live.lastNodeSample(),
      devices: this.live.gpuDevices(),
      health: this.live.health(),
    };
    this.frameCache = f;
    queueMicrotask(() => {
      this.frameCache = null;
    });
    return f;
  }
}
