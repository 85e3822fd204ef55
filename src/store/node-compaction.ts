// Merges the node's small chunks (one per 1-s flush, 10 samples at 100 ms) into deflated chunks of
// up to a minute (MAX_NODE_CHUNK_SPAN_MS), as compaction.ts does for a run's trace. Per sample the
// small chunks cost ~50 bytes of BLOB plus a row and an index entry (~66 bytes in all); merged and
// deflated, ~3-16 bytes (docs/performance.md). A merged chunk takes the id of its first small chunk,
// so reading `ORDER BY id` keeps write order; the chunks it replaces all have ids between that one
// and the next unmerged chunk. Each call is one transaction: a crash leaves either the small chunks
// or the merged one.
import type Database from 'better-sqlite3';
import type { NodeSample } from '../core/types.js';
import { decodeNodeChunk, encodePackedNodeChunk, MAX_CHUNK_SAMPLES, MAX_NODE_CHUNK_SPAN_MS } from './codec.js';

/** Unpacked chunks read per query: bounds memory when a migration packs a whole season. */
const PAGE_ROWS = 2000;

interface NodeChunkRow {
  id: number;
  first_wall_ms: number;
  last_wall_ms: number;
  n: number;
  data: Buffer;
}

interface Group {
  rows: NodeChunkRow[];
  samples: number;
  loWallMs: number;
  hiWallMs: number;
}

const emptyGroup = (): Group => ({ rows: [], samples: 0, loWallMs: Infinity, hiWallMs: -Infinity });

/**
 * Packs the unpacked node chunks, oldest first, into groups of at most MAX_NODE_CHUNK_SPAN_MS of
 * wall time and MAX_CHUNK_SAMPLES samples. `keepTail`: the newest group is left as it is while it
 * can still grow (the agent is writing it); otherwise everything is packed (a migration). Returns
 * the number of small chunks replaced.
 */
export function packNodeChunks(db: Database.Database, keepTail: boolean): number {
  const page = db.prepare<[number, number], NodeChunkRow>(
    'SELECT id, first_wall_ms, last_wall_ms, n, data FROM node_chunks WHERE packed = 0 AND id > ? ORDER BY id LIMIT ?',
  );
  const remove = db.prepare<[number]>('DELETE FROM node_chunks WHERE id = ?');
  const insert = db.prepare<[number, number, number, number, Buffer]>(
    'INSERT INTO node_chunks (id, first_wall_ms, last_wall_ms, n, data, packed) VALUES (?, ?, ?, ?, ?, 1)',
  );
  const write = (group: Group): void => {
    if (group.rows.length === 0) return;
    const samples: NodeSample[] = [];
    for (const row of group.rows) {
      for (const s of decodeNodeChunk(row.data)) samples.push(s);
      remove.run(row.id);
    }
    insert.run(group.rows[0].id, group.loWallMs, group.hiWallMs, samples.length, encodePackedNodeChunk(samples));
  };
  return db
    .transaction((): number => {
      let replaced = 0;
      let group = emptyGroup();
      let afterId = -1;
      for (;;) {
        const rows = page.all(afterId, PAGE_ROWS);
        if (rows.length === 0) break;
        afterId = rows[rows.length - 1].id;
        for (const row of rows) {
          const lo = Math.min(group.loWallMs, row.first_wall_ms);
          const hi = Math.max(group.hiWallMs, row.last_wall_ms);
          if (group.rows.length > 0 && (hi - lo > MAX_NODE_CHUNK_SPAN_MS || group.samples + row.n > MAX_CHUNK_SAMPLES)) {
            write(group);
            replaced += group.rows.length;
            group = emptyGroup();
          }
          group.rows.push(row);
          group.samples += row.n;
          group.loWallMs = Math.min(group.loWallMs, row.first_wall_ms);
          group.hiWallMs = Math.max(group.hiWallMs, row.last_wall_ms);
        }
      }
      if (!keepTail) {
        write(group);
        replaced += group.rows.length;
      }
      return replaced;
    })
    .immediate();
}

/** Small node chunks are packed once this many have been written (about a minute at one flush a second). */
const DUE_AFTER_CHUNKS = 64;

/** Counts the node chunks this process writes and packs them once enough have accumulated. */
export class NodeCompactor {
  private written = 0;

  constructor(private readonly db: Database.Database) {}

  noteWritten(chunks: number): void {
    this.written += chunks;
  }

  /** Bounded: at most ~DUE_AFTER_CHUNKS small chunks (about a minute of samples) per call. */
  compactDue(): void {
    if (this.written < DUE_AFTER_CHUNKS) return;
    this.written = 0;
    packNodeChunks(this.db, true);
  }
}
