// Prometheus exporter (README "Prometheus metrics"): prefix flare_, base units, _total counters, bounded labels.
// Live series are computed from the LiveView inside collect() callbacks, i.e. only when Prometheus
// scrapes: the sampler never waits for a scrape, and a container's series vanish when it ends
// because every live gauge/counter is reset before it is refilled.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Run } from '../core/types.js';
import type { AgentEvents, LiveView, SourceName } from '../agent/types.js';
import { labelValue, registerLiveMetrics, type Frame } from './metrics-live.js';
import { registerHealthMetrics } from './metrics-health.js';
import { ERROR_PLACES } from '../agent/errors.js';

export { labelValue } from './metrics-live.js';

const SOURCES: SourceName[] = ['docker', 'containerd', 'gpu', 'cgroup', 'host', 'sqlite'];

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
  private readonly samplesDroppedTotal: Counter<string>;

  /** dbPath: the database file, for its filesystem's free space (absent: those series are not exported). */
  constructor(opts: { live: LiveView; registry?: Registry; dbPath?: string }) {
    this.live = opts.live;
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    const frame = (): Frame => this.frame();

    registerLiveMetrics(registers, frame);
    registerHealthMetrics(registers, frame, opts.dbPath ?? null);

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
      // Past the largest --interval-ms (10 s): FlareAgentTickLagHigh compares the p99 with the interval,
      // and histogram_quantile cannot answer above the top finite bucket (with 1 s it never fired at 1 s).
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60],
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
    this.samplesDroppedTotal = new Counter({
      name: 'flare_agent_samples_dropped_total',
      help: 'Samples dropped unwritten because the write queue was full (database writes failing).',
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
    // Counted by the agent's one owner of error counts (agent/errors.ts), read from its health.
    new Counter({
      name: 'flare_agent_errors_total',
      help: 'Errors after start (in a tick, an adapter callback, a timer, an unhandled rejection): logged and counted, never fatal.',
      labelNames: ['where'],
      registers,
      collect() {
        this.reset();
        for (const where of ERROR_PLACES) this.inc({ where }, frame().health.errors?.[where] ?? 0);
      },
    });
    new Gauge({
      name: 'flare_agent_info',
      help: 'Agent build information and the node it measures (alerts name it); value is always 1.',
      labelNames: ['version', 'node'],
      registers,
      collect() {
        this.reset();
        this.set({ version: labelValue(frame().health.version), node: labelValue(frame().health.node) }, 1);
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

  samplesDropped(n: number): void {
    if (n > 0) this.samplesDroppedTotal.inc(n);
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
