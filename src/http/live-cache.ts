// The HTTP thread's copy of the agent's live state: the owner (main thread) posts a compact snapshot
// after its ticks, the HTTP handlers read this cache (cAdvisor's handler → cache → readers), so no
// reader ever runs on the sampler's event loop or waits for it.
import type { StoredOfficial } from '../store/index.js';
import type { Health, LiveRun, LiveView, SourceName } from '../agent/types.js';
import type { GpuDevice, NodeSample, Run, RunSample } from '../core/types.js';
import { monoNowNs } from '../clock/ticker.js';

/** What the owner posts: the live state, and the metric events since its last post. */
export interface Snapshot {
  runs: LiveRun[];
  node: NodeSample | null;
  devices: GpuDevice[];
  health: Health;
  events: AgentEvent[];
}

/** Metric events, in the order they happened (replayed into the HTTP thread's prom-client registry). */
export type AgentEvent =
  | ['tick', number, number]
  | ['db', number, number]
  | ['src', SourceName]
  | ['fin', Run]
  | ['drop', number];

/** owner → HTTP thread */
export type ToHttpThread = { t: 'snap'; snap: Snapshot } | { t: 'tail'; id: number; samples: RunSample[] | null } | { t: 'close' };
/** HTTP thread → owner */
export type ToOwner =
  | { t: 'listening'; port: number }
  | { t: 'listen-error'; message: string }
  | { t: 'tail?'; id: number; runId: string; fromIndex: number }
  /** Official figures a heavy read found final (official/keep.ts): the owner's store writes them. */
  | { t: 'official'; rows: StoredOfficial[] }
  | { t: 'closed' };

export class LiveCache implements LiveView {
  private snap: Snapshot;

  constructor(initial: Snapshot) {
    this.snap = initial;
  }

  update(snap: Snapshot): void {
    this.snap = snap;
  }

  liveRuns(): LiveRun[] {
    // Elapsed time moves on between snapshots: recomputed from the run's start on this thread's clock
    // (CLOCK_MONOTONIC is process-wide).
    const now = monoNowNs();
    return this.snap.runs.map((r) => ({ ...r, elapsedSeconds: (now - r.run.startedMonoNs) / 1e9 }));
  }

  lastNodeSample(): NodeSample | null {
    return this.snap.node;
  }

  gpuDevices(): GpuDevice[] {
    return this.snap.devices;
  }

  health(): Health {
    return this.snap.health;
  }
}
