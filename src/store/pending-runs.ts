// Runs whose row could not be inserted yet (the disk was full when they started). A run's start is as
// durable as its end: the row waits here, never dropped, under a placeholder rowid (negative, so it
// can never meet a real one) that its samples, partial summary and verdict are queued under. The
// write queue inserts every waiting row at the start of each of its transactions, so a run's row
// always lands with (or before) its first samples; after the commit the placeholder is replaced by
// the real rowid everywhere it was used.
import type Database from 'better-sqlite3';
import { INSERT_RUN_WITH_WRITER_SQL } from './rows.js';

/** The bound row of one run, as INSERT_RUN_WITH_WRITER_SQL takes it. */
export type RunInsertRow = Record<string, string | number | null>;

export class PendingRuns {
  private readonly rows = new Map<number, RunInsertRow>();
  private nextPlaceholder = -1;
  private readonly insert: Database.Statement<[RunInsertRow]>;

  constructor(db: Database.Database) {
    this.insert = db.prepare(INSERT_RUN_WITH_WRITER_SQL);
  }

  /** Keeps a row for later; returns its placeholder rowid. */
  add(row: RunInsertRow): number {
    const placeholder = this.nextPlaceholder--;
    this.rows.set(placeholder, row);
    return placeholder;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Whether a waiting row is a run of this container that started at or after sinceWallMs. */
  holdsContainerRunSince(containerId: string, sinceWallMs: number): boolean {
    for (const row of this.rows.values()) if (row.container_id === containerId && Number(row.started_wall_ms) >= sinceWallMs) return true;
    return false;
  }

  /** Inserts every waiting row; call inside the caller's transaction. Returns placeholder → rowid. */
  insertAll(): Map<number, number> {
    const landed = new Map<number, number>();
    for (const [placeholder, row] of this.rows) landed.set(placeholder, Number(this.insert.run(row).lastInsertRowid));
    return landed;
  }

  /** After the transaction committed: these rows are in the table. */
  landed(placeholders: Iterable<number>): void {
    for (const p of placeholders) this.rows.delete(p);
  }

  /** A run deleted before its row landed. */
  forget(placeholder: number): void {
    this.rows.delete(placeholder);
  }
}
