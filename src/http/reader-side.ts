// The reader side of the agent: the whole HTTP server (/api/v1, /metrics, /healthz, the web page) with
// its OWN read-only SQLite connection, fed with live state by the owner's messages. It never touches
// the writer connection or the write queue. In the daemon it runs in a worker thread (worker.ts); the
// in-process variant (tests that start the agent from TypeScript sources) runs the same code over a
// MessageChannel.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import type { RunSample } from '../core/types.js';
import { openStoreReadOnly } from '../store/index.js';
import { LiveCache, type Snapshot, type ToOwner, type ToReader } from './live-cache.js';
import { AgentMetrics } from './metrics.js';
import { createApp, listen } from './server.js';

export interface ReaderConfig {
  db: string;
  listen: string;
  token: string | null;
  metricsOpen: boolean;
  accuracyCsv?: string | null;
  webDir: string;
  initial: Snapshot;
  /** Lower this thread's scheduling priority (nice +10), so the sampler thread wins the CPU. */
  lowerPriority: boolean;
}

/** Nice value of the reader thread: a read flood yields to the sampler (and to the measured work). */
export const READER_NICE = 10;
/**
 * Nice value of the sampler (main) thread where the agent may raise it (root or CAP_SYS_NICE): its
 * ticks then win a busy CPU over the reader and over other work; it costs the node ~1.4 % of a core.
 */
export const SAMPLER_NICE = -10;

/** Sets the CALLING thread's nice value (Linux: setpriority on tid 0 is the thread). Best effort. */
export function setThisThreadNice(nice: number): boolean {
  try {
    setPriority(0, nice);
    return true;
  } catch {
    return false;
  }
}

/**
 * Linux schedules threads, and setpriority() applies to one thread id: /proc/thread-self names this
 * thread's id (task/<tid>). Best effort: without it the reader runs at the process's priority.
 */
export function lowerThisThreadPriority(nice = READER_NICE): number | null {
  try {
    const tid = Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, nice);
    return tid;
  } catch {
    return null;
  }
}

export async function runReaderSide(port: MessagePort, cfg: ReaderConfig): Promise<void> {
  if (cfg.lowerPriority) lowerThisThreadPriority();
  const store = openStoreReadOnly(cfg.db);
  const cache = new LiveCache(cfg.initial);
  const metrics = new AgentMetrics({ live: cache });
  let nextId = 1;
  const waiting = new Map<number, (samples: RunSample[] | null) => void>();
  const tail = (runId: string, fromIndex: number): Promise<RunSample[] | null> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      post({ t: 'tail?', id, runId, fromIndex });
    });
  const post = (m: ToOwner): void => port.postMessage(m);
  const app = createApp({ store, live: cache, metrics, token: cfg.token ?? undefined, metricsOpen: cfg.metricsOpen, accuracyCsv: cfg.accuracyCsv ?? undefined, webDir: cfg.webDir, tail });
  let http;
  try {
    http = await listen(app, cfg.listen);
  } catch (err) {
    store.close();
    post({ t: 'listen-error', message: (err as Error).message });
    return;
  }
  const server = http;
  port.on('message', (m: ToReader) => {
    if (m.t === 'snap') {
      cache.update(m.snap);
      for (const e of m.snap.events) {
        if (e[0] === 'tick') metrics.tick(e[1], e[2]);
        else if (e[0] === 'db') metrics.dbWrite(e[1], e[2]);
        else if (e[0] === 'src') metrics.sourceError(e[1]);
        else if (e[0] === 'fin') metrics.runFinished(e[1]);
        else metrics.samplesDropped(e[1]);
      }
    } else if (m.t === 'tail') {
      waiting.get(m.id)?.(m.samples);
      waiting.delete(m.id);
    } else {
      for (const resolve of waiting.values()) resolve(null);
      waiting.clear();
      void server.close().finally(() => {
        store.close();
        post({ t: 'closed' });
        port.close();
      });
    }
  });
  post({ t: 'listening', port: server.port });
}
