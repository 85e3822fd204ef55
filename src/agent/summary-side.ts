// The summary side: computes run summaries (the one summarise path, verdict.ts) away from the
// sampler's event loop. A summary is O(samples): ~3 µs per sample here, so closing a one-hour 10 Hz
// run (36 000 samples) took ~100 ms, a whole missed tick at 10 Hz, when it ran on the tick's loop.
// In the daemon this runs in a worker thread (summary-worker.ts) with its OWN read-only SQLite
// connection for the node samples of a run's span; tests that run from TypeScript sources run the same
// code in-process over a MessageChannel.
import type { MessagePort } from 'node:worker_threads';
import type { Run, RunSample, RunSummary } from '../core/types.js';
import { openStoreReadOnly, type Store } from '../store/index.js';
import { lowerThisThreadPriority } from './thread-priority.js';
import { summariseRun, type Verdict } from './verdict.js';

/** Nice value of the summary thread: below the sampler (−10), above the HTTP thread (+10). */
export const SUMMARY_NICE = 0;

const COLUMNS = 6;

/**
 * A run's samples as one Float64Array (6 columns of n, NaN for an unknown figure), transferred to the
 * summary thread without a copy; packing 36 000 samples costs the sampler's loop well under 1 ms,
 * where a structured clone of the objects costs tens.
 */
export function packSamples(samples: readonly RunSample[]): Float64Array {
  const n = samples.length;
  const out = new Float64Array(n * COLUMNS);
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    out[i] = s.monoNs;
    out[n + i] = s.wallMs;
    out[2 * n + i] = s.cpuSeconds ?? NaN;
    out[3 * n + i] = s.ramMiB ?? NaN;
    out[4 * n + i] = s.gpuMiB ?? NaN;
    out[5 * n + i] = s.gpuDeviceMiB ?? NaN;
  }
  return out;
}

export function unpackSamples(packed: Float64Array): RunSample[] {
  const n = packed.length / COLUMNS;
  const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
  const out = new Array<RunSample>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      monoNs: packed[i],
      wallMs: packed[n + i],
      cpuSeconds: orNull(packed[2 * n + i]),
      ramMiB: orNull(packed[3 * n + i]),
      gpuMiB: orNull(packed[4 * n + i]),
      gpuDeviceMiB: orNull(packed[5 * n + i]),
    };
  }
  return out;
}

export interface SummaryRequest {
  t: 'summarise';
  id: number;
  run: Run;
  samples: Float64Array;
  /** The wall span whose node samples the official block needs; null: none (a partial summary). */
  nodeSpan: { fromWallMs: number; toWallMs: number } | null;
  verdict: Verdict;
}

export type SummaryReply = { t: 'summary'; id: number; summary: RunSummary } | { t: 'failed'; id: number; message: string };

export interface SummarySideConfig {
  /** The agent's database (read-only here: node samples the owner has committed). */
  db: string;
  lowerPriority: boolean;
}

export function runSummarySide(port: MessagePort, cfg: SummarySideConfig): void {
  if (cfg.lowerPriority) lowerThisThreadPriority(SUMMARY_NICE);
  let store: Store | null = null;
  port.on('message', (m: SummaryRequest | { t: 'close' }) => {
    if (m.t === 'close') {
      store?.close();
      store = null;
      port.close();
      return;
    }
    try {
      let nodeSamples: ReturnType<Store['getNodeSamples']> = [];
      if (m.nodeSpan) {
        store ??= openStoreReadOnly(cfg.db);
        nodeSamples = store.getNodeSamples(m.nodeSpan.fromWallMs, m.nodeSpan.toWallMs);
      }
      const summary = summariseRun(m.run, unpackSamples(m.samples), nodeSamples, m.verdict);
      port.postMessage({ t: 'summary', id: m.id, summary } satisfies SummaryReply);
    } catch (err) {
      port.postMessage({ t: 'failed', id: m.id, message: (err as Error).message } satisfies SummaryReply);
    }
  });
}
