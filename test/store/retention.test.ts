import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore, openStoreReadOnly, UnknownRunError } from '../../src/store/index.js';
import { makeNodeTrace, makeRun, makeSummary, makeTrace, tempDbPath } from './fixtures.js';

const DAY_MS = 86_400_000;

function count(path: string, sql: string): number {
  const db = new Database(path, { readonly: true });
  const n = db.prepare(sql).pluck().get() as number;
  db.close();
  return n;
}

function liveBytes(path: string): { used: number; pages: number } {
  const db = new Database(path, { readonly: true });
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const size = db.pragma('page_size', { simple: true }) as number;
  db.close();
  return { used: (pages - free) * size, pages };
}

describe('applyRetention', () => {
  it('deletes finished runs and node samples older than maxAgeDays, never running runs', () => {
    const path = tempDbPath();
    const store = openStore(path);
    const now = Date.now();
    const end = { endedWallMs: null, endedMonoNs: null, summary: makeSummary() };
    store.createRun(makeRun('old-done', { startedWallMs: now - 10 * DAY_MS }));
    store.createRun(makeRun('old-running', { startedWallMs: now - 11 * DAY_MS }));
    store.createRun(makeRun('new-done', { startedWallMs: now - 1 * DAY_MS }));
    for (const id of ['old-done', 'old-running', 'new-done']) makeTrace(50).forEach((s) => store.appendRunSample(id, s));
    store.finishRun('old-done', { status: 'completed', ...end });
    store.finishRun('new-done', { status: 'failed', ...end });
    makeNodeTrace(20, now - 9 * DAY_MS).forEach((s) => store.appendNodeSample(s));
    const recentNodes = makeNodeTrace(20, now - 1000);
    recentNodes.forEach((s) => store.appendNodeSample(s));

    expect(store.applyRetention({ maxAgeDays: 7 })).toEqual({ deletedRuns: 1 });
    expect(store.getRun('old-done')).toBeUndefined();
    expect(store.getRun('old-running')?.status).toBe('running');
    expect(store.getRunSamples('old-running')).toHaveLength(50);
    expect(store.getRun('new-done')?.status).toBe('failed');
    expect(store.getNodeSamples(0, Infinity)).toEqual(recentNodes);
    expect(() => store.appendRunSample('old-done', makeTrace(1)[0])).toThrow(UnknownRunError);
    store.close();
    expect(count(path, 'SELECT count(*) FROM run_chunks')).toBe(2); // no orphaned sample chunks
  });

  it('never reuses the rowid of a deleted run (a reader cache cannot mix runs up)', () => {
    const path = tempDbPath();
    const store = openStore(path);
    store.createRun(makeRun('first', { startedWallMs: Date.now() - 30 * DAY_MS }));
    makeTrace(20).forEach((s) => store.appendRunSample('first', s));
    store.finishRun('first', { status: 'completed', endedWallMs: null, endedMonoNs: null, summary: makeSummary() });
    const reader = openStoreReadOnly(path);
    expect(reader.getRunSamples('first')).toHaveLength(20);
    expect(store.applyRetention({ maxAgeDays: 7 })).toEqual({ deletedRuns: 1 });
    store.createRun(makeRun('second'));
    makeTrace(5, 3).forEach((s) => store.appendRunSample('second', s));
    store.flush();
    expect(reader.getRunSamples('first')).toEqual([]);
    expect(reader.getRunSamples('second')).toEqual(makeTrace(5, 3));
    reader.close();
    store.close();
  });

  it('deletes oldest finished runs until the live data fits maxBytes, and shrinks the file', () => {
    const path = tempDbPath();
    const store = openStore(path, { flushIntervalMs: 60_000 });
    const t0 = Date.now() - DAY_MS;
    store.createRun(makeRun('run-00', { startedWallMs: t0 })); // oldest, but still running
    for (let i = 1; i < 40; i++) {
      const id = `run-${String(i).padStart(2, '0')}`;
      store.createRun(makeRun(id, { startedWallMs: t0 + i * 1000 }));
      makeTrace(3000, i).forEach((s) => store.appendRunSample(id, s));
      store.finishRun(id, { status: 'completed', endedWallMs: null, endedMonoNs: null, summary: makeSummary() });
    }
    makeTrace(3000).forEach((s) => store.appendRunSample('run-00', s));
    store.flush();
    const before = liveBytes(path);
    const maxBytes = Math.floor(before.used / 3);

    const { deletedRuns } = store.applyRetention({ maxBytes });
    const after = liveBytes(path);
    expect(after.used).toBeLessThanOrEqual(maxBytes);
    expect(deletedRuns).toBeGreaterThan(20);
    expect(deletedRuns).toBeLessThan(39);
    const left = store.listRuns({}, 100).runs.map((r) => r.id);
    expect(left).toContain('run-00');
    // The survivors are the newest finished runs: deletion went oldest first.
    const finished = left.filter((id) => id !== 'run-00').sort();
    expect(finished[0]).toBe(`run-${String(1 + deletedRuns).padStart(2, '0')}`);
    expect(finished).toHaveLength(39 - deletedRuns);
    // incremental_vacuum gave the freed pages back.
    expect(after.pages).toBeLessThan(before.pages / 2);
    store.close();
    expect(statSync(path).size).toBeLessThanOrEqual(after.pages * 4096);
  });
});
