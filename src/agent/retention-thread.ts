// Where retention runs: a worker thread per pass (retention-side.ts) with its own connection, so the
// sampler's loop never spends a deletion or a vacuum step. The store's owner only hears which runs went
// (their ids leave its caches, so nothing writes for them again). One pass at a time: a pass asked for
// while one runs is that one.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RetentionOptions, Store } from '../store/index.js';
import { runRetentionPass, type RetentionMessage, type RetentionRequest, type RetentionResult } from './retention-side.js';

const WORKER_JS = fileURLToPath(new URL('./retention-worker.js', import.meta.url));

export class RetentionThread {
  private running: Promise<RetentionResult> | null = null;
  private worker: Worker | null = null;

  constructor(
    private readonly db: string,
    private readonly store: Pick<Store, 'applyRetention' | 'forgetDeletedRuns'>,
  ) {}

  pass(opts: RetentionOptions, nowWallMs = Date.now()): Promise<RetentionResult> {
    this.running ??= this.start(opts, nowWallMs).finally(() => {
      this.running = null;
      this.worker = null;
    });
    return this.running;
  }

  /** Ends a pass in flight between two steps (each step is its own transaction: nothing half-done stays). */
  async close(): Promise<void> {
    await this.worker?.terminate();
  }

  private start(opts: RetentionOptions, nowWallMs: number): Promise<RetentionResult> {
    if (this.db === ':memory:') {
      // A second connection to ':memory:' would be another, empty database: the owner applies it.
      const t0 = performance.now();
      const { deletedRuns } = this.store.applyRetention(opts);
      return Promise.resolve({ deletedRuns, nodeChunks: 0, freedPages: 0, steps: 1, seconds: (performance.now() - t0) / 1000, usedBytes: 0 });
    }
    const req: RetentionRequest = { db: this.db, opts, nowWallMs, lowerPriority: true };
    return new Promise<RetentionResult>((resolve, reject) => {
      const on = (m: RetentionMessage): void => {
        if (m.t === 'deleted') {
          try {
            this.store.forgetDeletedRuns(m.runs);
          } catch {
            // The store is closing: nothing writes for these runs again anyway.
          }
        } else if (m.t === 'done') resolve(m.result);
        else reject(new Error(`retention: ${m.message}`));
      };
      if (!existsSync(WORKER_JS)) {
        // Running from TypeScript sources (tests): the same pass on this thread, between its steps' pauses.
        void runRetentionPass({ ...req, lowerPriority: false }, on);
        return;
      }
      const worker = new Worker(WORKER_JS, { workerData: req });
      this.worker = worker;
      worker.on('message', on);
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`retention thread exited (code ${code}) before its pass ended`)));
    });
  }
}
