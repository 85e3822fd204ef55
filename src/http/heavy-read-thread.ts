// Where the heavy reads run (heavy-reads.ts): a thread of their own, so that a ranking with its
// bootstrap or a season's official export, each seconds of CPU at 10 000 runs, cannot hold up
// /healthz and /metrics on the HTTP thread (a Kubernetes liveness probe with a 1-s timeout would
// restart the agent; Prometheus would lose scrapes). One thread, one read at a time, a few more
// waiting; past that a read is refused at once (503 with Retry-After) rather than queued without end.
import { Worker } from 'node:worker_threads';
import type { HeavyAnswer, HeavyContext, HeavyRead } from './heavy-reads.js';
import type { Store, StoredOfficial } from '../store/index.js';

export interface HeavyReads {
  /** Rejects with ReadsBusyError when the bound is reached. */
  answer(read: HeavyRead): Promise<HeavyAnswer>;
  close(): Promise<void>;
}

/** A read that needed more heap than the thread may use: the thread died of it and is started again. */
export class ReadsOutOfMemoryError extends Error {
  constructor(readonly heapMib: number) {
    super(`this read needs more memory than the heavy-read thread may use (${heapMib} MiB of heap): narrow it (team=, case=, since=) or start the agent with a larger --read-heap-mib`);
  }
}

/** Too many heavy reads at once: try again after retryAfterSeconds. */
export class ReadsBusyError extends Error {
  constructor(readonly retryAfterSeconds: number, readonly inFlight: number) {
    super(`${inFlight} heavy reads are in progress or waiting; retry after ${retryAfterSeconds} s`);
  }
}

/** Heavy reads one thread takes at once: one running, the rest waiting in order. */
export const MAX_HEAVY_READS = 4;

/**
 * The thread's heap (V8 old generation, MiB). A season's ranking holds ~40 MiB at its peak and the
 * exports read a page of runs at a time; without a bound V8 let the heap grow with what a cold export
 * of 10 000 runs churns through (the agent's peak RSS went from 140 to 375 MiB). The young generation
 * is kept small for the same reason. A read that needs more ends the thread: ReadsOutOfMemoryError.
 */
export const DEFAULT_READ_HEAP_MIB = 96;
const YOUNG_GENERATION_MIB = 8;

/**
 * In this thread (tests from sources, where no compiled worker exists): same answers, no isolation.
 * Final official figures go to `keep` (default: the store itself, when it is the writable one).
 */
export function inProcessReads(store: Store, accuracyCsv: string | undefined, keep: (rows: StoredOfficial[]) => void = (rows) => store.saveOfficialFigures(rows)): HeavyReads {
  let ctx: HeavyContext | null = null;
  return {
    answer: async (read) => {
      // Loaded at the first heavy read: the ranking, official and export modules are no part of the HTTP
      // thread's start (compiled builds answer them on their own thread, which loads them there).
      const { answerHeavyRead, heavyContext } = await import('./heavy-reads.js');
      return answerHeavyRead((ctx ??= heavyContext(store, accuracyCsv, keep)), read);
    },
    close: async () => {},
  };
}

type ToWorker = { t: 'read'; id: number; read: HeavyRead };
type FromWorker = { t: 'answer'; id: number; answer: HeavyAnswer } | { t: 'keep'; rows: StoredOfficial[] };

export interface HeavyReadThreadOptions {
  /** The worker's script (heavy-read-worker.js; tests give one of their own). */
  script: URL;
  workerData: unknown;
  maxInFlight?: number;
  /** The thread's heap bound (MiB); default DEFAULT_READ_HEAP_MIB. */
  heapMib?: number;
  /** Official figures the thread found final, to be stored by the store's owner. */
  onKeep?: (rows: StoredOfficial[]) => void;
}

/** The reads' thread, started on first use and again after it dies. */
export class HeavyReadThread implements HeavyReads {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (a: HeavyAnswer) => void; reject: (e: Error) => void; startMs: number }>();
  /** Recent read duration (ms, moving average): what Retry-After is estimated from. */
  private typicalMs = 1000;
  /** When the thread last answered (performance.now()). */
  private lastAnswerMs = 0;
  private closed = false;

  constructor(private readonly opts: HeavyReadThreadOptions) {}

  get inFlight(): number {
    return this.waiting.size;
  }

  answer(read: HeavyRead): Promise<HeavyAnswer> {
    if (this.closed) return Promise.reject(new Error('the read pool is closed'));
    const max = this.opts.maxInFlight ?? MAX_HEAVY_READS;
    if (this.waiting.size >= max) {
      const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil((this.typicalMs * this.waiting.size) / 1000)));
      return Promise.reject(new ReadsBusyError(retryAfterSeconds, this.waiting.size));
    }
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, startMs: performance.now() });
      worker.postMessage({ t: 'read', id, read } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(new Error('the read pool closed'));
    if (w) await w.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const heapMib = this.opts.heapMib ?? DEFAULT_READ_HEAP_MIB;
    const w = new Worker(this.opts.script, { workerData: this.opts.workerData, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB, maxOldGenerationSizeMb: heapMib } });
    w.on('message', (m: FromWorker) => {
      if (m.t === 'keep') return this.opts.onKeep?.(m.rows);
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      // The thread answers in order: a read's own time began when it was sent or when the one before it was answered.
      const now = performance.now();
      this.typicalMs = 0.7 * this.typicalMs + 0.3 * Math.max(1, now - Math.max(p.startMs, this.lastAnswerMs));
      this.lastAnswerMs = now;
      p.resolve(m.answer);
    });
    const died = (why: Error): void => {
      if (this.worker !== w) return;
      this.worker = null;
      this.failAll(why);
    };
    w.on('error', (err: Error & { code?: string }) => {
      if (err.code !== 'ERR_WORKER_OUT_OF_MEMORY') return died(new Error(`the heavy-read thread failed: ${String(err)}`));
      // The read being answered ran the thread out of memory; those waiting behind it only lost their thread: retry.
      const [first] = this.waiting.keys();
      const culprit = first === undefined ? undefined : this.waiting.get(first);
      if (first !== undefined) this.waiting.delete(first);
      culprit?.reject(new ReadsOutOfMemoryError(heapMib));
      died(new ReadsBusyError(1, this.waiting.size));
    });
    w.on('exit', (code) => died(new Error(`the heavy-read thread exited (${code})`)));
    // It must not keep a process alive that has nothing else to do.
    w.unref();
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }
}
