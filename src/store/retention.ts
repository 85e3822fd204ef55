// Retention: finished runs (never 'running' ones) and node samples, by age, then oldest first until
// the live data is under a byte budget. Freed pages go back to the OS with incremental_vacuum
// (the file is created with auto_vacuum=INCREMENTAL, see schema.ts).
import type Database from 'better-sqlite3';

const DAY_MS = 86_400_000;
/** Node samples are dropped in slices of this span when they are the oldest data left. */
const NODE_SLICE_MS = 3_600_000;

export interface RetentionOptions {
  maxAgeDays?: number;
  maxBytes?: number;
}

/** Bytes of live data: pages in use (the free list excluded) × page size. */
export function usedBytes(db: Database.Database): number {
  const pageCount = db.pragma('page_count', { simple: true }) as number;
  const freePages = db.pragma('freelist_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  return (pageCount - freePages) * pageSize;
}

export function applyRetention(db: Database.Database, opts: RetentionOptions, nowWallMs: number): { deletedRuns: number } {
  const deleteChunks = db.prepare('DELETE FROM run_chunks WHERE rid = ?');
  const deleteRun = db.prepare('DELETE FROM runs WHERE rid = ?');
  const oldestRun = db.prepare<[], { rid: number; started_wall_ms: number }>(
    "SELECT rid, started_wall_ms FROM runs WHERE status <> 'running' ORDER BY started_wall_ms, id LIMIT 1",
  );
  const oldestNode = db.prepare('SELECT min(first_wall_ms) FROM node_chunks').pluck();
  const dropRun = (rid: number): void => {
    deleteChunks.run(rid);
    deleteRun.run(rid);
  };

  const deletedRuns = db.transaction((): number => {
    let deleted = 0;
    if (opts.maxAgeDays !== undefined) {
      const cutoffWallMs = nowWallMs - opts.maxAgeDays * DAY_MS;
      const old = db
        .prepare("SELECT rid FROM runs WHERE status <> 'running' AND started_wall_ms < ?")
        .pluck()
        .all(cutoffWallMs) as number[];
      for (const rid of old) dropRun(rid);
      deleted += old.length;
      db.prepare('DELETE FROM node_chunks WHERE last_wall_ms < ?').run(cutoffWallMs);
    }
    if (opts.maxBytes !== undefined) {
      while (usedBytes(db) > opts.maxBytes) {
        const run = oldestRun.get();
        const nodeWallMs = oldestNode.get() as number | null;
        if (nodeWallMs !== null && (run === undefined || nodeWallMs < run.started_wall_ms)) {
          db.prepare('DELETE FROM node_chunks WHERE first_wall_ms < ?').run(nodeWallMs + NODE_SLICE_MS);
        } else if (run !== undefined) {
          dropRun(run.rid);
          deleted++;
        } else {
          break; // only running runs left
        }
      }
    }
    return deleted;
  }).immediate();

  db.pragma('incremental_vacuum');
  return { deletedRuns };
}
