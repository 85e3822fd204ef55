// The retention side: one retention pass (store/retention.ts) on its OWN read-write connection, away
// from the sampler's thread. At start the agent applied retention on the sampler's loop: at 10 000 runs
// deleting ~5 000 of them in one transaction and an unbounded vacuum cost 7-8 missed ticks and an
// 83 MB WAL. Here the pass is short transactions (STEP_BUDGET_MS each) with pauses between them, so the
// agent's writer, which waits at most 500 ms for the lock (store/open.ts), never waits for more than
// one step, and the WAL holds a step's pages. In the daemon this runs in a worker thread
// (retention-worker.ts); tests that run from TypeScript sources run it in-process.
import Database from 'better-sqlite3';
import { lowerThisThreadPriority } from './thread-priority.js';
import { RetentionPass, sweepDeleted, usedBytes, vacuumStep, type DeletedRun, type RetentionOptions } from '../store/index.js';

/**
 * Nice value of the retention thread: 0, not the heavy reads' +19. It holds SQLite's write lock for its
 * steps, and a thread at +19 on a node whose cores the measured work keeps busy gets ~1.5 % of a core
 * (CFS weights): one 10-ms step took over 500 ms of wall time and the agent's writer, waiting behind
 * it, gave up (SQLITE_BUSY). At 0 a step gets a fair share; the whole pass is seconds of CPU an hour.
 */
export const RETENTION_NICE = 0;

/** Work per transaction, ms: the most the agent's writer waits for the lock on its account. */
export const STEP_BUDGET_MS = 10;
/** Rest between steps, ms: the writer and the readers get the file (and a core of two) in between. */
const PAUSE_MS = 20;
/** Pages the first vacuum step moves; later steps scale it to STEP_BUDGET_MS. */
const FIRST_VACUUM_PAGES = 64;
/** Before the sweep: deletions posted to the agent have reached its writer well before this. */
const SWEEP_AFTER_MS = 2000;
/** How long a step waits for the agent's writer to let go of the lock (a flush takes ms). */
const BUSY_TIMEOUT_MS = 5000;

export interface RetentionRequest {
  db: string;
  opts: RetentionOptions;
  nowWallMs: number;
  lowerPriority: boolean;
}

export interface RetentionResult {
  deletedRuns: number;
  nodeChunks: number;
  freedPages: number;
  steps: number;
  seconds: number;
  usedBytes: number;
}

export type RetentionMessage =
  | { t: 'deleted'; runs: DeletedRun[] }
  | { t: 'done'; result: RetentionResult }
  | { t: 'failed'; message: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One whole pass; every deletion is posted as it commits, then the result. */
export async function runRetentionPass(req: RetentionRequest, post: (m: RetentionMessage) => void): Promise<void> {
  const t0 = performance.now();
  let db: Database.Database | null = null;
  try {
    if (req.lowerPriority) lowerThisThreadPriority(RETENTION_NICE);
    db = new Database(req.db, { fileMustExist: true });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const pass = new RetentionPass(db, req.opts, req.nowWallMs);
    const deleted: DeletedRun[] = [];
    let nodeChunks = 0;
    let steps = 0;
    for (let done = false; !done; steps++) {
      const step = pass.step(STEP_BUDGET_MS);
      if (step.deleted.length > 0) post({ t: 'deleted', runs: step.deleted });
      deleted.push(...step.deleted);
      nodeChunks += step.nodeChunks;
      done = step.done;
      if (!done) await sleep(PAUSE_MS);
    }
    const freeBefore = db.pragma('freelist_count', { simple: true }) as number;
    let pages = FIRST_VACUUM_PAGES;
    // Each step shortens the free list (the writer may free a few pages meanwhile: bounded all the same).
    for (let free = freeBefore, left = freeBefore; free > 0 && left > 0; steps++) {
      const v0 = performance.now();
      free = vacuumStep(db, pages);
      left -= pages;
      const ms = performance.now() - v0;
      pages = ms < STEP_BUDGET_MS / 2 ? pages * 2 : ms > STEP_BUDGET_MS ? Math.max(8, pages >> 1) : pages;
      if (free > 0) await sleep(PAUSE_MS);
    }
    if (deleted.length > 0) {
      await sleep(SWEEP_AFTER_MS);
      sweepDeleted(db, deleted);
    }
    const result: RetentionResult = {
      deletedRuns: deleted.length,
      nodeChunks,
      freedPages: freeBefore,
      steps,
      seconds: (performance.now() - t0) / 1000,
      usedBytes: usedBytes(db),
    };
    post({ t: 'done', result });
  } catch (err) {
    post({ t: 'failed', message: err instanceof Error ? err.message : String(err) });
  } finally {
    db?.close();
  }
}
