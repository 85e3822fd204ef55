// The HTTP thread's copy of the agent's live state: the owner (main thread) posts a compact snapshot
// when a reader asks for one (and on a slow heartbeat), the HTTP handlers read this cache (cAdvisor's
// handler → cache → readers), so no reader ever runs on the sampler's event loop; a request waits
// for a fresh snapshot a bounded time at most, and is served the one it has past that.
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
  /** A reader waits: the owner posts a snapshot now. */
  | { t: 'snap?' }
  | { t: 'tail?'; id: number; runId: string; fromIndex: number }
  /** Official figures a heavy read found final (official/keep.ts): the owner's store writes them. */
  | { t: 'official'; rows: StoredOfficial[] }
  | { t: 'closed' };

/** A snapshot younger than this (ms) is served as it is: /metrics and /api/v1/live are this fresh. */
export const FRESH_MS = 100;
/** How long a request waits for the owner's snapshot (ms) before it is served the one there is (a busy owner). */
export const FRESH_WAIT_MS = 100;

export class LiveCache implements LiveView {
  private snap: Snapshot;
  private updatedMs = Date.now();
  /** Requests waiting for the snapshot asked of the owner; null when none was asked. */
  private waiting: (() => void)[] | null = null;

  /** ask: posts `snap?` to the owner. */
  constructor(initial: Snapshot, private readonly ask: () => void = () => {}) {
    this.snap = initial;
  }

  update(snap: Snapshot): void {
    this.snap = snap;
    this.updatedMs = Date.now();
    const waiting = this.waiting;
    this.waiting = null;
    for (const resolve of waiting ?? []) resolve();
  }

  /**
   * Resolves once the cache is fresh: at once when its snapshot is younger than FRESH_MS, else when
   * the owner's answer arrives or FRESH_WAIT_MS have passed. Many requests share one question.
   */
  fresh(): Promise<void> {
    if (Date.now() - this.updatedMs < FRESH_MS) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.waiting === null) {
        this.waiting = [];
        this.ask();
        // Unanswered (the owner is busy, or gone at shutdown): the waiters get what there is, and the next request asks again.
        setTimeout(() => {
          const waiting = this.waiting;
          this.waiting = null;
          for (const r of waiting ?? []) r();
        }, FRESH_WAIT_MS).unref();
      }
      this.waiting.push(resolve);
    });
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
