// The HTTP thread of the agent: the whole HTTP server (/api/v1, /metrics, /healthz, the web page) with
// its OWN read-only SQLite connection, fed with live state by the owner's messages. It never touches
// the writer connection or the write queue. In the daemon it runs in a worker thread (http-worker.ts); the
// in-process variant (tests that start the agent from TypeScript sources) runs the same code over a
// MessageChannel.
import { openStoreReadOnly, type StoredOfficial } from '../store/index.js';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import type { RunSample } from '../core/types.js';
import { LiveCache, type Snapshot, type ToOwner, type ToHttpThread } from './live-cache.js';
import { AgentMetrics } from './metrics.js';
import { createApp, listen } from './server.js';
import { lowerThisThreadPriority } from '../agent/thread-priority.js';
import { inProcessReads, HeavyReadThread } from './heavy-read-thread.js';
import type { HeavyReadWorkerData } from './heavy-read-worker.js';

const HEAVY_READ_WORKER_JS = fileURLToPath(new URL('./heavy-read-worker.js', import.meta.url));

export interface HttpThreadConfig {
  db: string;
  listen: string;
  token: string | null;
  metricsOpen: boolean;
  accuracyCsv?: string | null;
  /** Heap of the heavy-read thread (MiB; default DEFAULT_READ_HEAP_MIB). */
  readHeapMib?: number;
  webDir: string;
  initial: Snapshot;
  /** Lower this thread's scheduling priority (nice +10), so the sampler thread wins the CPU. */
  lowerPriority: boolean;
}

export async function runHttpThread(port: MessagePort, cfg: HttpThreadConfig): Promise<void> {
  if (cfg.lowerPriority) lowerThisThreadPriority();
  const store = openStoreReadOnly(cfg.db);
  const cache = new LiveCache(cfg.initial, () => post({ t: 'snap?' }));
  const metrics = new AgentMetrics({ live: cache, dbPath: cfg.db });
  let nextId = 1;
  const waiting = new Map<number, (samples: RunSample[] | null) => void>();
  const tail = (runId: string, fromIndex: number): Promise<RunSample[] | null> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      post({ t: 'tail?', id, runId, fromIndex });
    });
  const post = (m: ToOwner): void => port.postMessage(m);
  // This thread's store is read-only: final official figures go to the owner's.
  const keepOfficial = (rows: StoredOfficial[]): void => post({ t: 'official', rows });
  // The ranking and the exports get a thread of their own (compiled builds; tests from sources answer them here).
  const heavy = existsSync(HEAVY_READ_WORKER_JS)
    ? new HeavyReadThread({
        script: pathToFileURL(HEAVY_READ_WORKER_JS),
        workerData: { db: cfg.db, accuracyCsv: cfg.accuracyCsv ?? null, lowerPriority: cfg.lowerPriority } satisfies HeavyReadWorkerData,
        heapMib: cfg.readHeapMib,
        onKeep: keepOfficial,
      })
    : inProcessReads(store, cfg.accuracyCsv ?? undefined, keepOfficial);
  const app = createApp({ store, live: cache, fresh: () => cache.fresh(), metrics, token: cfg.token ?? undefined, metricsOpen: cfg.metricsOpen, webDir: cfg.webDir, tail, heavy });
  let http;
  try {
    http = await listen(app, cfg.listen);
  } catch (err) {
    await heavy.close();
    store.close();
    post({ t: 'listen-error', message: (err as Error).message });
    return;
  }
  const server = http;
  port.on('message', (m: ToHttpThread) => {
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
      // Closing on the owner's request: the exit below follows whatever the closes do.
      void Promise.allSettled([server.close(), heavy.close()]).finally(() => {
        store.close();
        post({ t: 'closed' });
        port.close();
      });
    }
  });
  post({ t: 'listening', port: server.port });
}
