// The in-memory write queue: appends are O(1) pushes (no SQL on the tick path); a flush packs each
// run's queued samples into chunks and writes everything in ONE transaction. Nothing leaves the
// queue until that transaction has committed, so a failed flush loses nothing and can be retried.
import type Database from 'better-sqlite3';
import type { NodeSample, RunSample, RunSummary } from '../core/types.js';
import { encodeNodeChunk, encodeRunChunk } from './codec.js';
import type { Compactor } from './compaction.js';

/** Bounds a chunk's BLOB (~100 KiB) when a backlog accumulates. */
export const MAX_CHUNK_SAMPLES = 4096;
/** Node chunks span at most this much wall time, so a time-range query can bound its index scan. */
export const MAX_NODE_CHUNK_SPAN_MS = 60_000;

export class WriteQueue {
  /** Queued samples by run rowid, in append order. */
  readonly runSamples = new Map<number, RunSample[]>();
  nodeSamples: NodeSample[] = [];
  /** Latest partial summary of running runs, by rowid (coalesced: only the last one is written). */
  readonly summaries = new Map<number, RunSummary>();
  private queuedSamples = 0;
  /** Ordinal of the next sample of each run (first_index of its next chunk). */
  private readonly nextIndex = new Map<number, number>();

  private readonly insertRunChunk: Database.Statement<[number, number, number, Buffer]>;
  private readonly selectNextIndex: Database.Statement<[number], number>;
  private readonly insertNodeChunk: Database.Statement<[number, number, number, Buffer]>;
  private readonly updateSummary: Database.Statement<[string, number]>;

  constructor(
    private readonly db: Database.Database,
    private readonly compactor: Compactor,
  ) {
    this.insertRunChunk = db.prepare('INSERT INTO run_chunks (rid, first_index, n, data) VALUES (?, ?, ?, ?)');
    this.selectNextIndex = db
      .prepare<[number], number>('SELECT coalesce(max(first_index + n), 0) FROM run_chunks WHERE rid = ?')
      .pluck();
    this.insertNodeChunk = db.prepare(
      'INSERT INTO node_chunks (first_wall_ms, last_wall_ms, n, data) VALUES (?, ?, ?, ?)',
    );
    this.updateSummary = db.prepare("UPDATE runs SET summary = ? WHERE rid = ? AND status = 'running'");
  }

  get size(): number {
    return this.queuedSamples;
  }

  pushRun(rid: number, sample: RunSample): void {
    let queue = this.runSamples.get(rid);
    if (queue === undefined) {
      queue = [];
      this.runSamples.set(rid, queue);
    }
    queue.push(sample);
    this.queuedSamples++;
  }

  pushNode(sample: NodeSample): void {
    this.nodeSamples.push(sample);
    this.queuedSamples++;
  }

  /** Drops what is queued for a run (it was deleted). */
  forget(rid: number): void {
    this.queuedSamples -= this.runSamples.get(rid)?.length ?? 0;
    this.runSamples.delete(rid);
    this.summaries.delete(rid);
    this.nextIndex.delete(rid);
  }

  /** Writes everything queued in one transaction; returns the number of samples written. */
  flush(): number {
    if (this.queuedSamples === 0 && this.summaries.size === 0) return 0;
    const written = this.queuedSamples;
    const nextIndex = new Map<number, number>();
    const chunks: [number, number][] = [];
    this.db.transaction(() => {
      for (const [rid, samples] of this.runSamples) {
        let index = this.nextIndex.get(rid) ?? this.selectNextIndex.get(rid) ?? 0;
        for (let start = 0; start < samples.length; start += MAX_CHUNK_SAMPLES) {
          const chunk = samples.slice(start, start + MAX_CHUNK_SAMPLES);
          this.insertRunChunk.run(rid, index, chunk.length, encodeRunChunk(chunk));
          chunks.push([rid, chunk.length]);
          index += chunk.length;
        }
        nextIndex.set(rid, index);
      }
      for (const chunk of splitNodeSamples(this.nodeSamples)) {
        let firstWallMs = Infinity;
        let lastWallMs = -Infinity;
        for (const s of chunk) {
          firstWallMs = Math.min(firstWallMs, s.wallMs);
          lastWallMs = Math.max(lastWallMs, s.wallMs);
        }
        this.insertNodeChunk.run(firstWallMs, lastWallMs, chunk.length, encodeNodeChunk(chunk));
      }
      for (const [rid, summary] of this.summaries) this.updateSummary.run(JSON.stringify(summary), rid);
    }).immediate();
    // Only after the commit: a rolled-back flush must leave the indices where they were.
    for (const [rid, index] of nextIndex) this.nextIndex.set(rid, index);
    for (const [rid, n] of chunks) this.compactor.noteWritten(rid, n);
    this.runSamples.clear();
    this.nodeSamples = [];
    this.summaries.clear();
    this.queuedSamples = 0;
    return written;
  }
}

/** Cuts node samples into chunks of bounded size and bounded wall-time span (min..max). */
function splitNodeSamples(samples: NodeSample[]): NodeSample[][] {
  const chunks: NodeSample[][] = [];
  let current: NodeSample[] = [];
  let minWallMs = Infinity;
  let maxWallMs = -Infinity;
  for (const s of samples) {
    const lo = Math.min(minWallMs, s.wallMs);
    const hi = Math.max(maxWallMs, s.wallMs);
    if (current.length >= MAX_CHUNK_SAMPLES || hi - lo > MAX_NODE_CHUNK_SPAN_MS) {
      chunks.push(current);
      current = [];
      minWallMs = s.wallMs;
      maxWallMs = s.wallMs;
    } else {
      minWallMs = lo;
      maxWallMs = hi;
    }
    current.push(s);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
