// One sampler loop per node: on every tick, read the host, the GPUs, then every active run.
// Nothing here waits on I/O other than local pseudo-files and NVML; storage is queued (flushed off the tick path).
import type { NodeSample } from '../core/types.js';
import type { Store } from '../store/index.js';
import type { GpuSnapshot, GpuSource } from '../gpu/types.js';
import type { CounterHealth } from '../sources/counter-health.js';
import type { HostSource } from '../sources/host.js';
import { Ticker, type Tick } from '../clock/ticker.js';
import type { TickRides } from '../clock/rides.js';
import type { GpuShare } from './run-spec.js';
import type { RunManager } from './runs.js';
import type { AgentEvents } from './types.js';
import { guarded, type ErrorSink } from './errors.js';


const NO_MIG_USED: ReadonlyMap<string, number | null> = new Map();
export interface SamplerDeps {
  intervalMs: number;
  host: HostSource;
  gpu: GpuSource;
  /** Maps this tick's GPU processes to run keys (container id or cgroup path). */
  attributeGpu: (snapshot: GpuSnapshot) => Map<string, GpuShare>;
  runs: RunManager;
  store: Store;
  events: AgentEvents;
  /** Where an unreadable host counter is reported (source `host` down, a log line). */
  counters?: CounterHealth;
  /** Where an exception inside a tick is counted; without it, it is thrown (profile, tests). */
  errors?: ErrorSink | null;
  /** Periodic work that runs after the ticks while the sampler runs (clock/rides.ts). */
  rides?: TickRides | null;
}

export class Sampler {
  private readonly ticker: Ticker;
  private lastNode: NodeSample | null = null;
  private lastShares: Map<string, GpuShare> | null = null;
  private lastDeviceUsed = new Map<number, number | null>();
  private lastMigUsed: ReadonlyMap<string, number | null> = NO_MIG_USED;

  constructor(private readonly deps: SamplerDeps) {
    // An exception in one tick is logged and counted; the next tick runs as scheduled.
    this.ticker = new Ticker(deps.intervalMs, guarded(deps.errors ?? null, 'tick', (t: Tick) => this.onTick(t)), deps.rides ?? null);
    deps.runs.setSampleNow((runId) => this.sampleRunNow(runId));
  }

  get ticks(): Ticker {
    return this.ticker;
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  lastNodeSample(): NodeSample | null {
    return this.lastNode;
  }

  private gpuActive(): boolean {
    return this.deps.gpu.name !== 'none';
  }

  /** Reads the GPUs now; shares are null when there is no GPU source (unknown, not zero). */
  private readGpu(): GpuSnapshot {
    const snapshot = this.deps.gpu.sample();
    this.lastShares = this.gpuActive() && this.deps.gpu.status().up ? this.deps.attributeGpu(snapshot) : null;
    this.lastDeviceUsed = new Map(snapshot.devices.map((d) => [d.index, d.usedMiB]));
    this.lastMigUsed = snapshot.mig ? new Map(snapshot.mig.map((m) => [m.uuid, m.usedMiB])) : NO_MIG_USED;
    return snapshot;
  }

  private onTick(tick: Tick): void {
    const d = this.deps;
    const host = d.host.read();
    const snapshot = this.readGpu();
    if (host) {
      d.counters?.ok('host', 'host');
      this.lastNode = { monoNs: tick.monoNs, wallMs: tick.wallMs, cpu: host.cpu, memUsedMiB: host.memUsedMiB, memTotalMiB: host.memTotalMiB, gpus: snapshot.devices };
      d.store.appendNodeSample(this.lastNode);
      // MIG devices ride on the live node sample only (/metrics); the stored one has the GPUs.
      if (snapshot.mig) this.lastNode = { ...this.lastNode, mig: snapshot.mig };
    } else {
      // Unreadable host counters: no node sample this tick (unknown), never one with zeros.
      d.counters?.fail('host', 'host', d.host.failure ?? 'counter-unreadable: host');
      this.lastNode = null;
    }
    d.runs.sampleAll(this.lastShares, this.lastDeviceUsed, tick.wallMs, this.lastMigUsed);
    d.events.tick(tick.lagNs / 1e9, tick.missed);
  }

  /** Samples one run outside the tick (end-of-run and pre-kill reads), with fresh GPU figures. */
  sampleRunNow(runId: string): void {
    this.readGpu();
    this.deps.runs.sampleNow(runId, this.lastShares, this.lastDeviceUsed, this.lastMigUsed);
  }
}
