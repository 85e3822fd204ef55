// Retention: finished runs (never 'running' ones) and node samples, by age, then oldest first until
// the live data is under a byte budget. Freed pages go back to the OS with incremental_vacuum
// (the file is created with auto_vacuum=INCREMENTAL, see schema.ts).
//
// The work comes in bounded steps so that it can share the file with a writer that must not wait:
// each step is one short transaction (a time budget of a few ms; the agent's writer waits at most
// WRITE_BUSY_TIMEOUT_MS for the lock), and a vacuum step moves a bounded number of pages. Small
// transactions also keep the WAL small: one transaction deleting 5 000 runs wrote an 83 MB WAL.
import type Database from 'better-sqlite3';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  maxAgeDays?: number;
  maxBytes?: number;
}

export interface DeletedRun {
  rid: number;
  id: string;
}

export interface RetentionStep {
  deleted: DeletedRun[];
  nodeChunks: number;
  /** Nothing is left to delete (the pass's vacuum and sweep may still be due). */
  done: boolean;
}

/** Bytes of live data: pages in use (the free list excluded) × page size. */
export function usedBytes(db: Database.Database): number {
  const pageCount = db.pragma('page_count', { simple: true }) as number;
  const freePages = db.pragma('freelist_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  return (pageCount - freePages) * pageSize;
}

type Victim = { kind: 'run'; run: DeletedRun } | { kind: 'node'; id: number } | null;

/** The deletions of one retention pass, a bounded step at a time, on one connection. */
export class RetentionPass {
  private readonly cutoffWallMs: number | null;
  private readonly oldRun: Database.Statement<[number], DeletedRun>;
  private readonly oldestRun: Database.Statement<[], DeletedRun & { started_wall_ms: number }>;
  private readonly oldestNode: Database.Statement<[], { id: number; first_wall_ms: number; last_wall_ms: number }>;
  private readonly deleteChunks: Database.Statement<[number]>;
  private readonly deleteRun: Database.Statement<[number]>;
  private readonly deleteNode: Database.Statement<[number]>;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: RetentionOptions,
    nowWallMs: number,
  ) {
    this.cutoffWallMs = opts.maxAgeDays === undefined ? null : nowWallMs - opts.maxAgeDays * DAY_MS;
    // runs_by_start (started_wall_ms, id) is the order: oldest first, and an index range.
    this.oldRun = db.prepare("SELECT rid, id FROM runs WHERE status <> 'running' AND started_wall_ms < ? ORDER BY started_wall_ms, id LIMIT 1");
    this.oldestRun = db.prepare("SELECT rid, id, started_wall_ms FROM runs WHERE status <> 'running' ORDER BY started_wall_ms, id LIMIT 1");
    // node_chunks_by_time: a chunk spans at most a minute (a flush's second while it is unpacked).
    this.oldestNode = db.prepare('SELECT id, first_wall_ms, last_wall_ms FROM node_chunks ORDER BY first_wall_ms LIMIT 1');
    this.deleteChunks = db.prepare('DELETE FROM run_chunks WHERE rid = ?');
    this.deleteRun = db.prepare('DELETE FROM runs WHERE rid = ?');
    this.deleteNode = db.prepare('DELETE FROM node_chunks WHERE id = ?');
  }

  /** What goes next: a run or a node chunk past the age limit, else the oldest of either while over the byte budget. */
  private next(): Victim {
    if (this.cutoffWallMs !== null) {
      const run = this.oldRun.get(this.cutoffWallMs);
      if (run) return { kind: 'run', run: { rid: run.rid, id: run.id } };
      const node = this.oldestNode.get();
      if (node && node.last_wall_ms < this.cutoffWallMs) return { kind: 'node', id: node.id };
    }
    if (this.opts.maxBytes !== undefined && usedBytes(this.db) > this.opts.maxBytes) {
      const run = this.oldestRun.get();
      const node = this.oldestNode.get();
      if (node && (run === undefined || node.first_wall_ms < run.started_wall_ms)) return { kind: 'node', id: node.id };
      if (run) return { kind: 'run', run: { rid: run.rid, id: run.id } };
    }
    return null; // within the limits, or only running runs left
  }

  /** One transaction of deletions, oldest first, for about `budgetMs` of work. */
  step(budgetMs: number): RetentionStep {
    const t0 = performance.now();
    return this.db
      .transaction((): RetentionStep => {
        const out: RetentionStep = { deleted: [], nodeChunks: 0, done: false };
        do {
          const victim = this.next();
          if (victim === null) {
            out.done = true;
            break;
          }
          if (victim.kind === 'node') {
            this.deleteNode.run(victim.id);
            out.nodeChunks++;
          } else {
            this.deleteChunks.run(victim.run.rid);
            this.deleteRun.run(victim.run.rid);
            out.deleted.push(victim.run);
          }
        } while (performance.now() - t0 < budgetMs);
        return out;
      })
      .immediate();
  }
}

/** Gives up to `pages` free pages back to the file system (its own transaction); returns the free pages left. */
export function vacuumStep(db: Database.Database, pages: number): number {
  db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
  return db.pragma('freelist_count', { simple: true }) as number;
}

/**
 * Rows a concurrent writer may have added for runs this pass deleted, after it deleted them and before
 * the writer heard (a queued sample chunk of a finished run, official figures modelled just before).
 * Run ids are never reused (AUTOINCREMENT), so deleting by the deleted ids touches nothing else.
 */
export function sweepDeleted(db: Database.Database, deleted: readonly DeletedRun[]): void {
  const chunks = db.prepare<[number]>('DELETE FROM run_chunks WHERE rid = ?');
  const figures = db.prepare<[string]>('DELETE FROM official_figures WHERE run_id = ? AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.id = official_figures.run_id)');
  const BATCH = 500;
  for (let i = 0; i < deleted.length; i += BATCH) {
    db.transaction(() => {
      for (const run of deleted.slice(i, i + BATCH)) {
        chunks.run(run.rid);
        figures.run(run.id);
      }
    }).immediate();
  }
}

/** A whole pass on the calling thread, vacuum included (tests, and a store with no file of its own). */
export function applyRetention(db: Database.Database, opts: RetentionOptions, nowWallMs: number): { deleted: DeletedRun[] } {
  const pass = new RetentionPass(db, opts, nowWallMs);
  const deleted: DeletedRun[] = [];
  for (;;) {
    const step = pass.step(Infinity);
    deleted.push(...step.deleted);
    if (step.done) break;
  }
  db.pragma('incremental_vacuum');
  return { deleted };
}
