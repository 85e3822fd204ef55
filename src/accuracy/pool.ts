// Cases scored on worker threads (accuracy/case-worker.ts), one case at a time per thread, so a
// folder is scored on every core; in this thread where the compiled worker is absent (tests from
// sources), one thread is asked for or there is one case.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { scoreOneCase, type CaseJob, type CaseResult } from './case.js';
import { Scratch } from './scratch.js';

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
    await Promise.all(workers.map(endWorker));
  }
  return results;
}

/** How long a thread told to end may take before it is terminated (it ends within ms once idle). */
const END_WAIT_MS = 10_000;

/**
 * Ends a thread by closing its port, so that its loop ends on its own and Node drains the isolate's
 * background tasks first; terminate() only when it does not end in time. Node 20 could abort the
 * whole process when terminate() met a TurboFan job still compiling on the thread's isolate
 * ("NodePlatform::ForIsolate … Assertion failed", the job asking for a task runner the isolate no
 * longer had); seen once in this command's test after every case was scored. Resolves with the
 * thread's exit code (1: it had to be terminated; -1: it had ended before).
 */
export async function endWorker(w: Worker, waitMs = END_WAIT_MS): Promise<number> {
  if (w.threadId < 0) return -1; // already ended (its error was reported)
  const ended = new Promise<number>((resolve) => w.once('exit', resolve));
  w.postMessage(null);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waitMs)));
  try {
    const code = await Promise.race([ended, late]);
    return code === 'late' ? await w.terminate() : code;
  } finally {
    clearTimeout(timer);
  }
}

