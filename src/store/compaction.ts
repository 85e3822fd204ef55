// Merges a run's small chunks (one per 1 s flush: 10 samples at 100 ms) into chunks of about
// TARGET_SAMPLES, off the append path: loading an hour-long trace then reads ~36 rows instead of
// 3 600 (the per-row cost dominated), and the samples shrink: fewer per-chunk headers, and the merged
// chunk is deflated (codec.ts, ~30 % smaller).
// Each merge is one transaction, so a crash leaves either the small chunks or the merged one.
import type Database from 'better-sqlite3';
import type { RunSample } from '../core/types.js';
import { decodeRunChunkInto, encodePackedRunChunk } from './codec.js';
import { NodeCompactor } from './node-compaction.js';

export const TARGET_SAMPLES = 1024;
/** Chunks at least this large are left alone: re-merging them would rewrite samples again and again. */
const SMALL_SAMPLES = TARGET_SAMPLES / 2;
/** A running run is compacted once this many small chunks have been written for it. */
const DUE_AFTER_CHUNKS = 64;

interface ChunkRow {
  id: number;
  first_index: number;
  n: number;
  data: Buffer;
}

export class Compactor {
  /** Small chunks written by this process per run rowid since its last compaction. */
  private readonly pending = new Map<number, number>();
  private readonly selectSmall: Database.Statement<[number, number], ChunkRow>;
  private readonly deleteChunk: Database.Statement<[number]>;
  private readonly insertChunk: Database.Statement<[number, number, number, Buffer]>;
  /** The node's samples are packed the same way (node-compaction.ts). */
  private readonly node: NodeCompactor;

  constructor(private readonly db: Database.Database) {
    this.node = new NodeCompactor(db);
    this.selectSmall = db.prepare(
      'SELECT id, first_index, n, data FROM run_chunks WHERE rid = ? AND n < ? ORDER BY first_index',
    );
    this.deleteChunk = db.prepare('DELETE FROM run_chunks WHERE id = ?');
    this.insertChunk = db.prepare('INSERT INTO run_chunks (rid, first_index, n, data) VALUES (?, ?, ?, ?)');
  }

  noteWritten(rid: number, samples: number): void {
    if (samples < SMALL_SAMPLES) this.pending.set(rid, (this.pending.get(rid) ?? 0) + 1);
  }

  noteNodeWritten(chunks: number): void {
    this.node.noteWritten(chunks);
  }

  forget(rid: number): void {
    this.pending.delete(rid);
  }

  /** Compacts at most one run that has accumulated enough small chunks, and the node's (bounded work per call). */
  compactDue(): void {
    this.node.compactDue();
    for (const [rid, count] of this.pending) {
      if (count >= DUE_AFTER_CHUNKS) {
        this.compactRun(rid);
        return;
      }
    }
  }

  /** Merges runs of consecutive small chunks of one run into chunks of at most TARGET_SAMPLES. */
  compactRun(rid: number): void {
    this.pending.delete(rid);
    this.db
      .transaction(() => {
        const rows = this.selectSmall.all(rid, SMALL_SAMPLES);
        let batch: ChunkRow[] = [];
        let batchSamples = 0;
        for (const row of rows) {
          const last = batch[batch.length - 1];
          const contiguous = last !== undefined && last.first_index + last.n === row.first_index;
          if (!contiguous || batchSamples + row.n > TARGET_SAMPLES) {
            this.merge(rid, batch);
            batch = [];
            batchSamples = 0;
          }
          batch.push(row);
          batchSamples += row.n;
        }
        this.merge(rid, batch);
      })
      .immediate();
  }

  private merge(rid: number, batch: ChunkRow[]): void {
    if (batch.length < 2) return;
    const samples: RunSample[] = [];
    for (const row of batch) {
      decodeRunChunkInto(row.data, samples);
      this.deleteChunk.run(row.id);
    }
    this.insertChunk.run(rid, batch[0].first_index, samples.length, encodePackedRunChunk(samples));
  }
}
