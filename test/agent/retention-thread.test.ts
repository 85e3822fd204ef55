// Retention away from the sampler: a pass in short transactions on its own connection (the worker
// thread of the built dist/, as the daemon runs it, and the same code in-process from the sources),
// while the store's owner keeps writing. It lands on its byte budget, the owner forgets what went, and
// nothing is left orphaned or lost.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as RetentionThreadModule from '../../src/agent/retention-thread.js';
import { RetentionThread } from '../../src/agent/retention-thread.js';
import { openStore, UnknownRunError } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { requireServices } from '../helpers.js';
import { makeNodeTrace, makeRun, makeSummary, makeTrace, tempDbPath } from '../store/fixtures.js';

const DIST = join(process.cwd(), 'dist/src/agent/retention-thread.js');
const DAY_MS = 86_400_000;
const RUNS = 150;

function usedBytes(path: string): number {
  const db = new Database(path, { readonly: true });
  const used = ((db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)) * 4096;
  db.close();
  return used;
}

function sql(path: string, query: string): number {
  const db = new Database(path, { readonly: true });
  const n = db.prepare(query).pluck().get() as number;
  db.close();
  return n;
}

/** Node samples first (the oldest data), then RUNS finished runs, then one running run. */
function season(path: string, startWallMs: number): Store {
  const store = openStore(path, { flushIntervalMs: 60_000 });
  makeNodeTrace(3000, startWallMs - 600_000).forEach((s, i) => {
    store.appendNodeSample(s);
    if (i % 10 === 9) store.flush();
  });
  for (let i = 0; i < RUNS; i++) {
    const id = `run-${String(i).padStart(3, '0')}`;
    store.createRun(makeRun(id, { startedWallMs: startWallMs + i * 1000 }));
    makeTrace(600, i + 1).forEach((s) => store.appendRunSample(id, s));
    store.finishRun(id, { status: 'completed', endedWallMs: null, endedMonoNs: null, summary: makeSummary() });
  }
  store.createRun(makeRun('live', { startedWallMs: startWallMs - DAY_MS }));
  store.flush();
  return store;
}

type Thread = Pick<RetentionThread, 'pass' | 'close'>;

async function landsOnBudget(newThread: (db: string, store: Store) => Thread, ownerWrites: boolean): Promise<void> {
  const path = tempDbPath();
  const store = season(path, Date.now() - DAY_MS);
  const maxBytes = Math.floor(usedBytes(path) * 0.4);
  const thread = newThread(path, store);
  // The owner keeps sampling and flushing meanwhile: none of its writes may fail or be lost.
  const live = makeTrace(4000, 99);
  let appended = 0;
  const writer = setInterval(() => {
    if (!ownerWrites) return;
    for (let k = 0; k < 10 && appended < live.length; k++) store.appendRunSample('live', live[appended++]);
    store.flush();
  }, 5);
  try {
    const result = await thread.pass({ maxBytes });
    expect(result.steps).toBeGreaterThan(3); // short transactions, not one
    expect(result.deletedRuns).toBeGreaterThan(RUNS / 3);
    expect(result.nodeChunks).toBeGreaterThan(0); // the node samples were older than every run
    clearInterval(writer);
    store.flush();
    const used = usedBytes(path);
    if (!ownerWrites) {
      expect(used).toBeLessThanOrEqual(maxBytes);
      expect(used).toBeGreaterThan(maxBytes * 0.97); // on budget: one run or one node chunk at a time
      expect(sql(path, 'PRAGMA freelist_count')).toBe(0); // the freed pages went back to the file system
    } else {
      // (The owner's own compaction frees pages after the vacuum: the free list is not the pass's to empty.)
      expect(appended).toBeGreaterThan(0);
    }
    // Oldest first: the node samples went first, then the runs from the oldest.
    expect(sql(path, 'SELECT count(*) FROM node_chunks')).toBe(0);
    expect(store.getRun('run-000')).toBeUndefined();
    expect(store.getRun(`run-${RUNS - 1}`)).toBeDefined();
    expect(store.getRun(`run-${String(result.deletedRuns).padStart(3, '0')}`)?.status).toBe('completed');
    expect(store.getRun(`run-${String(result.deletedRuns - 1).padStart(3, '0')}`)).toBeUndefined();
    // The owner heard: a write for a deleted run is refused, not written as an orphan.
    expect(() => store.appendRunSample('run-000', makeTrace(1)[0])).toThrow(UnknownRunError);
    expect(store.getRunSamples('live')).toEqual(live.slice(0, appended));
    expect(sql(path, 'SELECT count(*) FROM run_chunks WHERE rid NOT IN (SELECT rid FROM runs)')).toBe(0);
  } finally {
    clearInterval(writer);
    await thread.close();
    store.close();
  }
}

async function byAge(newThread: (db: string, store: Store) => Thread): Promise<void> {
  const path = tempDbPath();
  const now = Date.now();
  const store = season(path, now - 10 * DAY_MS);
  store.createRun(makeRun('recent', { startedWallMs: now - 1000 }));
  store.finishRun('recent', { status: 'completed', endedWallMs: null, endedMonoNs: null, summary: makeSummary() });
  const recentNodes = makeNodeTrace(50, now - 5000, 5);
  recentNodes.forEach((s) => store.appendNodeSample(s));
  store.flush();
  const thread = newThread(path, store);
  try {
    const result = await thread.pass({ maxAgeDays: 7 });
    expect(result.deletedRuns).toBe(RUNS);
    expect(store.listRuns({}, 10).runs.map((r) => r.id).sort()).toEqual(['live', 'recent']); // a running run stays, however old
    expect(store.getNodeSamples(0, Infinity)).toEqual(recentNodes);
    // A second pass finds nothing to do.
    expect((await thread.pass({ maxAgeDays: 7 })).deletedRuns).toBe(0);
  } finally {
    await thread.close();
    store.close();
  }
}

describe('retention off the sampler', () => {
  describe('in-process (TypeScript sources)', () => {
    const make = (db: string, store: Store): Thread => new RetentionThread(db, store);
    it('lands on its byte budget in short transactions', () => landsOnBudget(make, false), 30_000);
    it('loses none of the owner\'s writes meanwhile, and leaves no orphan', () => landsOnBudget(make, true), 30_000);
    it('deletes by age, never a running run', () => byAge(make), 30_000);
  });

  describe.skipIf(!existsSync(DIST) && !requireServices())('in the worker thread (dist/, as the daemon runs it)', () => {
    let mod: typeof RetentionThreadModule;
    beforeAll(async () => {
      if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build`);
      mod = (await import(DIST)) as typeof RetentionThreadModule;
    });
    const make = (db: string, store: Store): Thread => new mod.RetentionThread(db, store);
    it('lands on its byte budget in short transactions', () => landsOnBudget(make, false), 30_000);
    it('loses none of the owner\'s writes meanwhile, and leaves no orphan', () => landsOnBudget(make, true), 30_000);
    it('deletes by age, never a running run', () => byAge(make), 30_000);
  });
});
