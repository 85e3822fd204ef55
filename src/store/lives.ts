// Agent lives on a node (schema 6): recorded at start, stopped at a clean stop, read at the next
// start to tell which spans an agent watched (core/lives.ts). Best effort by design: a life that
// cannot be recorded (the disk is full at start) merely widens the window of the life before it.
import type Database from 'better-sqlite3';
import type { AgentLife } from '../core/lives.js';

export function recordLife(db: Database.Database, node: string, writer: string | null, startedWallMs: number): number {
  return Number(db.prepare('INSERT INTO agent_lives (node, writer, started_wall_ms) VALUES (?, ?, ?)').run(node, writer, startedWallMs).lastInsertRowid);
}

export function endLife(db: Database.Database, id: number, stoppedWallMs: number): void {
  db.prepare('UPDATE agent_lives SET stopped_wall_ms = ? WHERE id = ?').run(stoppedWallMs, id);
}

export function livesSince(db: Database.Database, node: string, sinceWallMs: number): AgentLife[] {
  return db
    .prepare<[string, number], { started_wall_ms: number; stopped_wall_ms: number | null }>(
      'SELECT started_wall_ms, stopped_wall_ms FROM agent_lives WHERE node = ? AND started_wall_ms >= ? ORDER BY started_wall_ms',
    )
    .all(node, sinceWallMs)
    .map((r) => ({ startedWallMs: r.started_wall_ms, stoppedWallMs: r.stopped_wall_ms }));
}

/** Any run of this container that started at or after sinceWallMs, other than exceptRunId (index runs_by_container). */
export function containerRunSince(db: Database.Database, containerId: string, sinceWallMs: number, exceptRunId = ''): boolean {
  return db.prepare('SELECT 1 FROM runs WHERE container_id = ? AND started_wall_ms >= ? AND id <> ? LIMIT 1').get(containerId, sinceWallMs, exceptRunId) !== undefined;
}
