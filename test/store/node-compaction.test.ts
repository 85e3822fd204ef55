import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { encodeNodeChunk, MAX_NODE_CHUNK_SPAN_MS } from '../../src/store/codec.js';
import { openStore, openStoreReadOnly } from '../../src/store/index.js';
import { packNodeChunks } from '../../src/store/node-compaction.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/schema.js';
import { makeNodeTrace, tempDbPath } from './fixtures.js';

interface ChunkRow {
  id: number;
  first_wall_ms: number;
  last_wall_ms: number;
  n: number;
  packed: number;
  bytes: number;
}

function chunks(path: string): ChunkRow[] {
  const db = new Database(path, { readonly: true });
  const rows = db
    .prepare('SELECT id, first_wall_ms, last_wall_ms, n, packed, length(data) AS bytes FROM node_chunks ORDER BY id')
    .all() as ChunkRow[];
  db.close();
  return rows;
}

/** Bytes of the pages that hold node samples: the table and its indexes (SQLite's dbstat). */
function nodeTableBytes(path: string): number {
  const db = new Database(path, { readonly: true });
  const bytes = db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'node_chunks%'").pluck().get() as number;
  db.close();
  return bytes;
}

describe('node sample compaction', () => {
  it('merges the 1-s chunks a minute at a time as the agent writes, every reader seeing the same samples', () => {
    const path = tempDbPath();
    const store = openStore(path);
    const trace = makeNodeTrace(3000); // 5 minutes at 100 ms, flushed once a second as the agent does
    trace.forEach((s, i) => {
      store.appendNodeSample(s);
      if (i % 10 === 9) store.flush();
    });
    store.flush();
    expect(store.getNodeSamples(0, Infinity)).toEqual(trace);
    const from = trace[1234].wallMs;
    const to = trace[2345].wallMs;
    expect(store.getNodeSamples(from, to)).toEqual(trace.filter((s) => s.wallMs >= from && s.wallMs <= to));
    store.close();

    const rows = chunks(path);
    const packed = rows.filter((r) => r.packed === 1);
    expect(packed.length).toBeGreaterThanOrEqual(4);
    for (const r of packed) expect(r.last_wall_ms - r.first_wall_ms).toBeLessThanOrEqual(MAX_NODE_CHUNK_SPAN_MS);
    // What is still unpacked is the tail the agent was writing (less than two packing rounds).
    expect(rows.length - packed.length).toBeLessThan(128);
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(trace.length);
    const packedBytesPerSample = packed.reduce((b, r) => b + r.bytes, 0) / packed.reduce((n, r) => n + r.n, 0);
    const plainBytesPerSample = encodeNodeChunk(trace.slice(0, 10)).length / 10;
    expect(packedBytesPerSample).toBeLessThan(plainBytesPerSample / 2);
  });

  it('packs whatever is left on demand, and a second pass changes nothing', () => {
    const path = tempDbPath();
    const store = openStore(path);
    const trace = makeNodeTrace(900);
    trace.forEach((s, i) => {
      store.appendNodeSample(s);
      if (i % 10 === 9) store.flush();
    });
    store.close();
    const db = new Database(path);
    // The store packed the first minute once 64 chunks were written; the last 30 s are still small.
    expect(packNodeChunks(db, false)).toBe(30);
    expect(packNodeChunks(db, false)).toBe(0);
    db.close();
    const rows = chunks(path);
    expect(rows.map((r) => r.packed)).toEqual([1, 1]); // 90 s: a minute, then the rest
    const reopened = openStoreReadOnly(path);
    expect(reopened.getNodeSamples(0, Infinity)).toEqual(trace);
    reopened.close();
  });

  it('upgrades a version-9 file in place: the node samples packed, identical, and the file smaller', () => {
    const path = tempDbPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    migrate(db, path, 9);
    // As version 9 wrote them: one small chunk per 1-s flush.
    const trace = makeNodeTrace(6000);
    const insert = db.prepare('INSERT INTO node_chunks (first_wall_ms, last_wall_ms, n, data) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < trace.length; i += 10) {
      const part = trace.slice(i, i + 10);
      insert.run(part[0].wallMs, part[part.length - 1].wallMs, part.length, encodeNodeChunk(part));
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytesBefore = statSync(path).size;
    const nodeBytesBefore = nodeTableBytes(path);

    const store = openStore(path);
    expect(store.getNodeSamples(0, Infinity)).toEqual(trace);
    store.close();
    const rows = chunks(path);
    expect(rows.every((r) => r.packed === 1)).toBe(true);
    expect(rows.length).toBe(10);
    expect(nodeTableBytes(path)).toBeLessThan(nodeBytesBefore / 2); // random GPU figures: the season data packs ~9×
    expect(statSync(path).size).toBeLessThan(bytesBefore); // what the migration freed went back
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.pragma('freelist_count', { simple: true })).toBe(0);
    check.close();
  });
});
