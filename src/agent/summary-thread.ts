// Where run summaries are computed. The sampler's loop must not spend a summary's O(samples) work
// (closing a one-hour run at 10 Hz costs ~100 ms, a missed tick), so the daemon hands summaries to a
// thread (summary-side.ts); `profile`, tests and crash recovery (before the sampler starts) compute
// them where they are. Both run the one summarise path (verdict.ts) on the same inputs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Run, RunSample, RunSummary } from '../core/types.js';
import { silentLogger, type Logger } from '../log.js';
import { endThread } from '../thread-end.js';
import type { Store } from '../store/index.js';
import { summariseRun, type Verdict } from './verdict.js';
import { packSamples, runSummarySide, type SummaryReply, type SummaryRequest } from './summary-side.js';

export interface SummaryJob {
  run: Run;
  samples: readonly RunSample[];
  /** The wall span whose node samples feed the official block; null: none (a partial summary). */
  nodeSpan: { fromWallMs: number; toWallMs: number } | null;
  verdict: Verdict;
}

export interface Summariser {
  /** Where the work runs, in words (the agent's start log says it). */
  readonly where: string;
  summarise(job: SummaryJob): Promise<RunSummary>;
  close(): Promise<void>;
}

/** Summaries on the calling thread, node samples from the owner's store. */
export function inlineSummariser(store: Store): Summariser {
  return {
    where: 'calling thread',
    summarise: async (job) => summariseRun(job.run, job.samples as RunSample[], job.nodeSpan ? store.getNodeSamples(job.nodeSpan.fromWallMs, job.nodeSpan.toWallMs) : [], job.verdict),
    close: async () => {},
  };
}

const WORKER_JS = fileURLToPath(new URL('./summary-worker.js', import.meta.url));

interface Pending {
  job: SummaryJob;
  resolve: (s: RunSummary) => void;
  reject: (e: Error) => void;
}

/**
 * Summaries in a worker thread with its own read-only connection to `db`. A job the thread cannot
 * finish (it failed, or the thread died) is computed by `fallback`: a late summary is better than a
 * lost verdict.
 */
export function threadSummariser(db: string, fallback: Summariser, log: Logger = silentLogger): Summariser {
  const threaded = existsSync(WORKER_JS);
  let worker: Worker | null = null;
  // Started at the first summary, not with the agent: an idle node never needs the thread, and a fresh
  // agent's first seconds paid for a third thread's start (docs/performance.md, "The sampler's own cost").
  let port: Worker | MessagePort | null = null;
  const connect = (): Worker | MessagePort => {
    if (port) return port;
    if (threaded) {
      worker = new Worker(WORKER_JS, { workerData: { db, lowerPriority: true } });
      port = worker;
    } else {
      const channel = new MessageChannel();
      port = channel.port1;
      runSummarySide(channel.port2, { db, lowerPriority: false });
    }
    listen(worker, port);
    return port;
  };
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let broken: string | null = null;
  const settle = (id: number): Pending | undefined => {
    const p = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) port?.unref();
    return p;
  };
  // The pending job's own resolve/reject carry the outcome to whoever waits for it.
  const viaFallback = (p: Pending): void => void fallback.summarise(p.job).then(p.resolve, p.reject);
  const breakDown = (why: string): void => {
    if (broken) return;
    broken = why;
    log.error('summary thread failed: summaries are computed on the sampler thread from now on', { reason: why });
    for (const id of [...pending.keys()]) viaFallback(settle(id)!);
  };
  function listen(w: Worker | null, p: Worker | MessagePort): void {
    // Held (ref'd) only while a job is out, so an idle summariser never keeps the process alive.
    p.unref();
    p.on('message', (m: SummaryReply) => {
      const job = settle(m.id);
      if (!job) return;
      if (m.t === 'summary') job.resolve(m.summary);
      else {
        log.warn('summary thread could not summarise a run; computing it here', { runId: job.job.run.id, reason: m.message });
        viaFallback(job);
      }
    });
    w?.on('error', (err) => breakDown(String(err)));
    w?.on('exit', (code) => breakDown(`exited with code ${code}`));
  }
  return {
    where: threaded ? 'summary worker thread' : 'in-process channel',
    summarise(job: SummaryJob): Promise<RunSummary> {
      if (broken) return fallback.summarise(job);
      const port = connect();
      return new Promise<RunSummary>((resolve, reject) => {
        const id = nextId++;
        if (pending.size === 0) port.ref();
        pending.set(id, { job, resolve, reject });
        const samples = packSamples(job.samples);
        const request: SummaryRequest = { t: 'summarise', id, run: job.run, samples, nodeSpan: job.nodeSpan, verdict: job.verdict };
        port.postMessage(request, [samples.buffer as ArrayBuffer]);
      });
    },
    async close(): Promise<void> {
      broken ??= 'closed';
      for (const id of [...pending.keys()]) viaFallback(settle(id)!);
      const open: Worker | MessagePort | null = port;
      if (!open) return; // never started
      const w: Worker | null = worker;
      if (w) {
        w.removeAllListeners('exit');
        // The thread has just made the final summaries: it closes its port and ends on its own (thread-end.ts).
        await endThread(w, { t: 'close' });
      } else {
        open.postMessage({ t: 'close' });
        (open as MessagePort).close();
      }
    },
  };
}
