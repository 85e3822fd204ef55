// Cases scored on worker threads (accuracy/case-worker.ts), one case at a time per thread, so a
// folder is scored on every core; in this thread where the compiled worker is absent (tests from
// sources), one thread is asked for or there is one case.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { scoreOneCase, type CaseJob, type CaseResult } from './case.js';
import { Scratch } from './scratch.js';
import { endThread } from '../thread-end.js';

const WORKER_JS = fileURLToPath(new URL('./case-worker.js', import.meta.url));

/** Scores the jobs on `threads` worker threads (in this thread when the compiled worker is absent: tests from sources). */
export async function scoreAll(jobs: CaseJob[], threads: number, onResult: (r: CaseResult, done: number) => void): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let next = 0;
  const record = (r: CaseResult): void => {
    results.push(r);
    onResult(r, results.length);
  };
  // One case (or one thread): here, without a worker's start-up (~0.1 s, its modules loaded again).
  if (!existsSync(WORKER_JS) || threads <= 1 || jobs.length <= 1) {
    const scratch = new Scratch();
    for (const job of jobs) record(await scoreOneCase(job, scratch));
    return results;
  }
  const workers = Array.from({ length: Math.min(threads, jobs.length) }, () => new Worker(WORKER_JS));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              if (next >= jobs.length) return resolve();
              w.postMessage(jobs[next++]);
            };
            w.on('message', (r: CaseResult) => {
              record(r);
              feed();
            });
            w.on('error', reject);
            feed();
          }),
      ),
    );
  } finally {
    // null: no more cases (case-worker.ts closes its port); the threads end on their own (thread-end.ts).
    await Promise.all(workers.map((w) => endThread(w, null)));
  }
  return results;
}
