// The in-memory write queue: appends are O(1) pushes (no SQL on the tick path); a flush seals what
// arrived since the last one into encoded chunks, then writes every sealed chunk in ONE transaction.
//
// - Encoded once: a chunk is encoded when it is sealed and kept encoded until a commit takes it, so
//   a failing disk costs one encode per sample, not one per retry (the backlog is never re-encoded).
// - Nothing leaves the queue before its transaction has committed: a failed flush loses nothing.
// - Bounded: at most `maxSamples` samples wait (sealed + not yet sealed). Past that, the OLDEST
//   waiting samples are dropped (whole sealed chunks first) and reported through `onDrop`, so a
//   disk that stays full costs a flat amount of memory and the loss is counted, never silent.
// - A chunk's first_index (its first sample's ordinal in the run) is assigned inside the transaction
//   from a per-run counter, so a dropped chunk leaves no hole in the ordinals readers page by.
// - Runs whose row is still waiting (pending-runs.ts) are inserted first in every transaction, so
//   their samples, queued under a placeholder rowid, land in the same commit as their row.
import type Database from 'better-sqlite3';
import type { NodeSample, RunSample, RunSummary } from '../core/types.js';
import { encodeNodeChunk, encodeRunChunk, MAX_CHUNK_SAMPLES, MAX_NODE_CHUNK_SPAN_MS } from './codec.js';
import type { Compactor } from './compaction.js';
import type { PendingRuns } from './pending-runs.js';

/**
 * Default cap on waiting samples: 200 000 is ~33 min of backlog at 10 Hz × 10 targets, ~5 MB once
 * sealed (≈ 20 bytes per encoded sample) plus at most one second of unsealed objects.
 */
export const DEFAULT_MAX_QUEUED_SAMPLES = 200_000;

interface SealedChunk {
  /** Run rowid, or null for a node chunk. */
  rid: number | null;
  n: number;
  data: Buffer;
  firstWallMs: number;
  lastWallMs: number;
}

export class WriteQueue {
  /** Samples pushed since the last seal, by run rowid, in append order. */
  private readonly runSamples = new Map<number, RunSample[]>();
  private nodeSamples: NodeSample[] = [];
  /** Encoded chunks waiting for a commit, oldest first. */
  private sealed: SealedChunk[] = [];
  /** Latest partial summary of running runs, by rowid (coalesced: only the last one is written). */
  private readonly summaries = new Map<number, RunSummary>();
  private unsealedCount = 0;
  private sealedCount = 0;
  /** Ordinal of the next sample of each run that is committed (first_index of its next chunk). */
  private readonly nextIndex = new Map<number, number>();

  private readonly insertRunChunk: Database.Statement<[number, number, number, Buffer]>;
  private readonly selectNextIndex: Database.Statement<[number], number>;
  private readonly insertNodeChunk: Database.Statement<[number, number, number, Buffer]>;
  private readonly updateSummary: Database.Statement<[string, number]>;

  constructor(
    private readonly db: Database.Database,
    private readonly compactor: Compactor,
    private readonly maxSamples: number = DEFAULT_MAX_QUEUED_SAMPLES,
    /** Samples dropped because the queue was full: rid null for node samples. */
    private readonly onDrop: (rid: number | null, n: number) => void = () => {},
    /** Rows of runs that could not be inserted yet, and who learns their real rowids once they land. */
    private readonly runs: { pending: PendingRuns; onLanded: (landed: Map<number, number>) => void } | null = null,
  ) {
    if (!Number.isInteger(maxSamples) || maxSamples < 1) throw new RangeError(`maxSamples must be an integer ≥ 1, got ${maxSamples}`);
    this.insertRunChunk = db.prepare('INSERT INTO run_chunks (rid, first_index, n, data) VALUES (?, ?, ?, ?)');
    this.selectNextIndex = db
      .prepare<[number], number>('SELECT coalesce(max(first_index + n), 0) FROM run_chunks WHERE rid = ?')
      .pluck();
    this.insertNodeChunk = db.prepare(
      'INSERT INTO node_chunks (first_wall_ms, last_wall_ms, n, data) VALUES (?, ?, ?, ?)',
    );
    this.updateSummary = db.prepare("UPDATE runs SET summary = ? WHERE rid = ? AND status = 'running'");
  }

  /** Samples waiting (sealed or not). */
  get size(): number {
    return this.unsealedCount + this.sealedCount;
  }

  /** Bytes of encoded chunks waiting for a commit. */
  get sealedBytes(): number {
    let bytes = 0;
    for (const c of this.sealed) bytes += c.data.length;
    return bytes;
  }

  pushRun(rid: number, sample: RunSample): void {
    this.makeRoom();
    let queue = this.runSamples.get(rid);
    if (queue === undefined) {
      queue = [];
      this.runSamples.set(rid, queue);
    }
    queue.push(sample);
    this.unsealedCount++;
  }

  pushNode(sample: NodeSample): void {
    this.makeRoom();
    this.nodeSamples.push(sample);
    this.unsealedCount++;
  }

  setSummary(rid: number, summary: RunSummary): void {
    this.summaries.set(rid, summary);
  }

  dropSummary(rid: number): void {
    this.summaries.delete(rid);
  }

  /** Whether anything of this run still waits for a commit. */
  holds(rid: number): boolean {
    return (this.runSamples.get(rid)?.length ?? 0) > 0 || this.sealed.some((c) => c.rid === rid);
  }

  /** Keeps one free slot: drops the oldest sealed chunk, else the oldest unsealed sample. */
  private makeRoom(): void {
    while (this.size >= this.maxSamples) {
      const oldest = this.sealed.shift();
      if (oldest !== undefined) {
        this.sealedCount -= oldest.n;
        this.onDrop(oldest.rid, oldest.n);
        continue;
      }
      // Nothing sealed (no flush ran yet): drop the oldest unsealed sample of the longest stream.
      let longestRid: number | null = null;
      let longest = this.nodeSamples.length;
      for (const [rid, q] of this.runSamples) if (q.length > longest) [longestRid, longest] = [rid, q.length];
      if (longestRid === null) this.nodeSamples.shift();
      else this.runSamples.get(longestRid)!.shift();
      this.unsealedCount--;
      this.onDrop(longestRid, 1);
    }
  }

  /** Drops what is queued for a run (it was deleted), its waiting row too. */
  forget(rid: number): void {
    this.runs?.pending.forget(rid);
    this.unsealedCount -= this.runSamples.get(rid)?.length ?? 0;
    this.runSamples.delete(rid);
    const kept = this.sealed.filter((c) => c.rid !== rid);
    for (const c of this.sealed) if (c.rid === rid) this.sealedCount -= c.n;
    this.sealed = kept;
    this.summaries.delete(rid);
    this.nextIndex.delete(rid);
  }

  /** Encodes what arrived since the last seal into chunks (each sample is encoded exactly once). */
  private seal(): void {
    for (const [rid, samples] of this.runSamples) {
      for (let start = 0; start < samples.length; start += MAX_CHUNK_SAMPLES) {
        const chunk = samples.slice(start, start + MAX_CHUNK_SAMPLES);
        this.sealed.push({ rid, n: chunk.length, data: encodeRunChunk(chunk), firstWallMs: 0, lastWallMs: 0 });
      }
      this.sealedCount += samples.length;
    }
    this.runSamples.clear();
    for (const chunk of splitNodeSamples(this.nodeSamples)) {
      let firstWallMs = Infinity;
      let lastWallMs = -Infinity;
      for (const s of chunk) {
        firstWallMs = Math.min(firstWallMs, s.wallMs);
        lastWallMs = Math.max(lastWallMs, s.wallMs);
      }
      this.sealed.push({ rid: null, n: chunk.length, data: encodeNodeChunk(chunk), firstWallMs, lastWallMs });
      this.sealedCount += chunk.length;
    }
    this.nodeSamples = [];
    this.unsealedCount = 0;
  }

  /** Whether the last flush failed: the next one probes with the oldest chunk alone first. */
  private failing = false;

  /**
   * Seals, then writes every sealed chunk in one transaction; returns the samples written. After a
   * failure, the oldest chunk is first written alone (a cheap probe): while the disk stays full, a
   * retry costs one small failed insert, not a failed transaction over the whole backlog.
   */
  flush(): number {
    this.seal();
    if (this.sealed.length === 0 && this.summaries.size === 0 && (this.runs?.pending.size ?? 0) === 0) return 0;
    if (this.failing && this.sealed.length > 1) {
      const probe = this.sealed[0];
      const written = this.write([probe], false); // throws while still failing: the backlog waits
      this.sealed.shift();
      this.sealedCount -= probe.n;
      this.failing = false;
      return written + this.flush();
    }
    try {
      const written = this.write(this.sealed, true);
      this.failing = false;
      return written;
    } catch (err) {
      this.failing = true;
      throw err;
    }
  }

  /** Writes these chunks (and, with summaries, the queued partial summaries) in one transaction. */
  private write(sealed: SealedChunk[], withSummaries: boolean): number {
    let written = 0;
    for (const c of sealed) written += c.n;
    const nextIndex = new Map<number, number>();
    const chunks: [number, number][] = [];
    let nodeChunks = 0;
    let landed = new Map<number, number>();
    const real = (rid: number): number => landed.get(rid) ?? rid;
    this.db.transaction(() => {
      landed = this.runs?.pending.insertAll() ?? landed; // rows first: their samples may follow
      for (const c of sealed) {
        if (c.rid === null) {
          this.insertNodeChunk.run(c.firstWallMs, c.lastWallMs, c.n, c.data);
          nodeChunks++;
          continue;
        }
        const rid = real(c.rid);
        const index = nextIndex.get(rid) ?? this.nextIndex.get(rid) ?? this.selectNextIndex.get(rid) ?? 0;
        this.insertRunChunk.run(rid, index, c.n, c.data);
        nextIndex.set(rid, index + c.n);
        chunks.push([rid, c.n]);
      }
      if (withSummaries) for (const [rid, summary] of this.summaries) this.updateSummary.run(JSON.stringify(summary), real(rid));
    }).immediate();
    // Only after the commit: a rolled-back flush must leave the indices, the chunks and the rows where they were.
    for (const [rid, index] of nextIndex) this.nextIndex.set(rid, index);
    for (const [rid, n] of chunks) this.compactor.noteWritten(rid, n);
    if (nodeChunks > 0) this.compactor.noteNodeWritten(nodeChunks);
    if (withSummaries) {
      this.sealed = [];
      this.sealedCount = 0;
      this.summaries.clear();
    }
    if (landed.size > 0) this.replacePlaceholders(landed);
    return written;
  }

  /** Rows that landed: what is still queued under their placeholders moves to their real rowids. */
  private replacePlaceholders(landed: Map<number, number>): void {
    this.runs?.pending.landed(landed.keys());
    const real = (rid: number): number => landed.get(rid) ?? rid;
    for (const [placeholder, rid] of landed) {
      const samples = this.runSamples.get(placeholder);
      if (samples !== undefined) {
        this.runSamples.delete(placeholder);
        this.runSamples.set(rid, samples);
      }
      const summary = this.summaries.get(placeholder);
      if (summary !== undefined) {
        this.summaries.delete(placeholder);
        this.summaries.set(rid, summary);
      }
      this.nextIndex.delete(placeholder);
    }
    for (const c of this.sealed) if (c.rid !== null) c.rid = real(c.rid);
    this.runs?.onLanded(landed);
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
