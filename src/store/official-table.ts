// The official figures of finished runs, stored with them (table official_figures, schema 9): one row
// per run and challenge profile, with the stamp of the run's inputs it was computed from. Modelling
// one run takes ~5 ms, so a season's export from nothing took 19 s; kept only in a reader's memory it
// was lost at every start. Rows are written here only for figures that are final (src/official/
// keep.ts decides: the host samples past the run's modelled span are on disk), in small batches at
// the store's background flush, off the tick path. They are recomputable, so a write that fails is
// dropped rather than retried, and a read-only store (the CLI) never writes.
import type Database from 'better-sqlite3';
import type { OfficialFigures } from '../core/types.js';

export interface StoredOfficial {
  runId: string;
  /** profileKeyOf(profile): a profile's whole content, hashed. */
  profileKey: string;
  /** What the figures were computed from (officialStampOf): they stand while it is unchanged. */
  stamp: string;
  figures: OfficialFigures;
}

/** Rows waiting for the flush at most (a season is ~10 000 runs per profile): past it, dropped. */
const MAX_PENDING = 100_000;
/**
 * Rows one flush writes. The flush shares the sampler's thread: 500 rows are a few ms of it (2 000
 * were ~10 ms, a tenth of a 100-ms tick's budget), so a season of 10 000 rows lands in 20 s.
 */
const ROWS_PER_FLUSH = 500;

export class OfficialTable {
  private pending: StoredOfficial[] = [];
  /** null on a file older than schema 9 opened read-only (no table to read: every figure is computed). */
  private readonly select: Database.Statement<[string, string], { stamp: string; figures: string }> | null;
  private readonly newestNode: Database.Statement<[], number>;
  private readonly insert: Database.Statement<[string, string, string, string, string]> | null;

  constructor(private readonly db: Database.Database, readOnly: boolean) {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'official_figures'").get() !== undefined;
    this.select = hasTable ? db.prepare('SELECT stamp, figures FROM official_figures WHERE run_id = ? AND profile = ?') : null;
    // Node chunks are written in time order: the one that starts last ends last (index node_chunks_by_time).
    this.newestNode = db.prepare<[], number>('SELECT last_wall_ms FROM node_chunks ORDER BY first_wall_ms DESC LIMIT 1').pluck();
    this.insert = readOnly || !hasTable
      ? null
      : db.prepare(
          'INSERT OR REPLACE INTO official_figures (run_id, profile, stamp, figures) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?)',
        );
  }

  get(runId: string, profileKey: string): { stamp: string; figures: OfficialFigures } | undefined {
    const row = this.select?.get(runId, profileKey);
    return row === undefined ? undefined : { stamp: row.stamp, figures: JSON.parse(row.figures) as OfficialFigures };
  }

  /** The newest committed host sample's wall time (ms); null when there is none. */
  nodeSamplesUntilWallMs(): number | null {
    return this.newestNode.get() ?? null;
  }

  /** Queues rows for the next flushes; a read-only store keeps nothing. */
  save(rows: readonly StoredOfficial[]): void {
    if (this.insert === null) return;
    for (const r of rows) if (this.pending.length < MAX_PENDING) this.pending.push(r);
  }

  get waiting(): number {
    return this.pending.length;
  }

  /** Writes up to ROWS_PER_FLUSH queued rows in one transaction (a run deleted meanwhile gets none). */
  writeDue(): void {
    if (this.insert === null || this.pending.length === 0) return;
    const batch = this.pending.splice(0, ROWS_PER_FLUSH);
    const insert = this.insert;
    try {
      this.db.transaction(() => {
        for (const r of batch) insert.run(r.runId, r.profileKey, r.stamp, JSON.stringify(r.figures), r.runId);
      })();
    } catch {
      /* recomputable: a full disk loses nothing an export cannot compute again */
    }
  }
}
