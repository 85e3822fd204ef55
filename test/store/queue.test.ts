// The bounded write queue and the durable verdict, against a real SQLite file made to refuse writes
// (`PRAGMA query_only`). The disk-level faults themselves (a real full tmpfs) are in test/faults/.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as codec from '../../src/store/codec.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { migrate, prepareNewFile } from '../../src/store/schema.js';
import { makeRun, makeSummary, makeTrace, tempDbPath } from './fixtures.js';

vi.mock('../../src/store/codec.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/store/codec.js')>();
  return { ...original, encodeRunChunk: vi.fn(original.encodeRunChunk) };
});

const stores: SqliteStore[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

function open(opts: ConstructorParameters<typeof SqliteStore>[2]): { store: SqliteStore; db: Database.Database } {
  const path = tempDbPath();
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  prepareNewFile(db);
  db.pragma('journal_mode = WAL');
  migrate(db, path);
  const store = new SqliteStore(db, false, { flushIntervalMs: 60_000, ...opts });
  stores.push(store);
  return { store, db };
}

/**
 * Makes every further write fail (SQLITE_READONLY through `PRAGMA query_only`: deterministic, where a
 * page limit still lets writes into pages with room); undo with the returned function.
 */
function refuseWrites(db: Database.Database): () => void {
  db.pragma('query_only = 1');
  return () => void db.pragma('query_only = 0');
}

describe('bounded write queue', () => {
  it('caps waiting samples, drops the oldest (counted per run), never re-encodes a backlog, leaves no hole', () => {
    const drops: [string | null, number][] = [];
    const errors: string[] = [];
    const { store, db } = open({ maxQueuedSamples: 1000, onSamplesDropped: (id, n) => drops.push([id, n]), onError: (e) => errors.push(e.message) });
    store.createRun(makeRun('r1'));
    const trace = makeTrace(5000);
    trace.slice(0, 100).forEach((s) => store.appendRunSample('r1', s));
    store.flush();
    const free = refuseWrites(db);
    const encode = vi.mocked(codec.encodeRunChunk);
    encode.mockClear();
    let encoded = 0;
    // 49 failed flushes of 100 new samples each: each sample is encoded once, whatever the retries.
    for (let i = 1; i < 50; i++) {
      trace.slice(i * 100, (i + 1) * 100).forEach((s) => store.appendRunSample('r1', s));
      expect(() => store.flush()).toThrow(/readonly|query_only|write/i);
      expect(store.queuedSamples()).toBeLessThanOrEqual(1000);
      encoded = encode.mock.calls.reduce((n, [samples]) => n + samples.length, 0);
    }
    expect(encoded).toBe(4900);
    const dropped = drops.reduce((n, [id, k]) => (id === 'r1' ? n + k : n), 0);
    expect(dropped).toBe(4900 - 1000);
    free();
    store.flush();
    expect(store.queuedSamples()).toBe(0);
    // The committed trace: the first 100, then the newest 1000 (the oldest waiting ones were dropped).
    const stored = store.getRunSamples('r1');
    expect(stored).toEqual([...trace.slice(0, 100), ...trace.slice(4000, 5000)]);
    expect(store.committedSampleCount('r1')).toBe(1100);
  });

  it('a run end that cannot be written is kept and lands once writes work again; onRecovered says so', async () => {
    let recovered = 0;
    const { store, db } = open({ flushIntervalMs: 50, onError: () => {}, onRecovered: () => recovered++ });
    const run = makeRun('r2');
    store.createRun(run);
    makeTrace(50).forEach((s) => store.appendRunSample('r2', s));
    const free = refuseWrites(db);
    const end = { status: 'completed' as const, endedWallMs: run.startedWallMs + 5000, endedMonoNs: run.startedMonoNs + 5e9, summary: makeSummary({ exitCode: 0 }) };
    expect(store.finishRun('r2', end)).toBe(false);
    expect(store.pendingVerdicts()).toBe(1);
    expect(store.getRun('r2')?.status).toBe('running');
    await new Promise((r) => setTimeout(r, 300)); // retries keep failing: nothing lost
    expect(store.pendingVerdicts()).toBe(1);
    free();
    for (let i = 0; i < 100 && store.pendingVerdicts() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(store.pendingVerdicts()).toBe(0);
    expect(store.getRun('r2')).toMatchObject({ status: 'completed', summary: { exitCode: 0 } });
    expect(store.getRunSamples('r2')).toHaveLength(50);
    expect(recovered).toBeGreaterThanOrEqual(1);
  });

  it('a run that starts while writes fail is kept: its row, samples, partial summary and verdict land in order once they work', async () => {
    const errors: string[] = [];
    let recovered = 0;
    const { store, db } = open({ flushIntervalMs: 50, onError: (e) => errors.push(e.message), onRecovered: () => recovered++ });
    store.createRun(makeRun('before')); // a row that landed, beside the one that waits
    const free = refuseWrites(db);
    const run = makeRun('born-in-outage');
    store.createRun(run); // does not throw: the row waits
    expect(errors.length).toBeGreaterThan(0);
    expect(store.pendingRuns()).toBe(1);
    expect(store.getRun('born-in-outage')).toBeUndefined();
    const trace = makeTrace(30);
    trace.forEach((s) => store.appendRunSample('born-in-outage', s));
    store.updateRunningSummary('born-in-outage', makeSummary({ status: 'running' }));
    const end = { status: 'completed' as const, endedWallMs: run.startedWallMs + 5000, endedMonoNs: run.startedMonoNs + 5e9, summary: makeSummary({ exitCode: 0 }) };
    expect(store.finishRun('born-in-outage', end)).toBe(false);
    expect(store.pendingVerdicts()).toBe(1);
    await new Promise((r) => setTimeout(r, 300)); // retries keep failing: nothing lost, nothing written
    expect(store.pendingRuns()).toBe(1);
    expect(store.getRun('born-in-outage')).toBeUndefined();
    free();
    for (let i = 0; i < 100 && (store.pendingRuns() > 0 || store.pendingVerdicts() > 0); i++) await new Promise((r) => setTimeout(r, 50));
    expect(store.pendingRuns()).toBe(0);
    expect(store.pendingVerdicts()).toBe(0);
    expect(store.getRun('born-in-outage')).toMatchObject({ status: 'completed', team: run.team, case: run.case, startedWallMs: run.startedWallMs, summary: { exitCode: 0 } });
    expect(store.getRunSamples('born-in-outage')).toEqual(trace);
    expect(store.committedSampleCount('born-in-outage')).toBe(30);
    expect(store.runWriter('born-in-outage')).toBe(store.runWriter('before'));
    expect(recovered).toBeGreaterThanOrEqual(1);
    // Later samples of another waiting run follow their run to its real rowid.
    const free2 = refuseWrites(db);
    store.createRun(makeRun('second'));
    makeTrace(10).forEach((s) => store.appendRunSample('second', s));
    expect(() => store.flush()).toThrow();
    free2();
    store.flush();
    makeTrace(5).forEach((s) => store.appendRunSample('second', s));
    store.flush();
    expect(store.getRunSamples('second')).toHaveLength(15);
    expect(store.listRuns({}, 10).runs.map((r) => r.id).sort()).toEqual(['before', 'born-in-outage', 'second']);
  });

  it('a duplicate run id still throws at once (a bug, not a fault to wait out)', () => {
    const { store } = open({ onError: () => {} });
    store.createRun(makeRun('dup'));
    expect(() => store.createRun(makeRun('dup'))).toThrow(/UNIQUE/);
    expect(store.pendingRuns()).toBe(0);
  });
});
