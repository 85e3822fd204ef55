import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunSample } from '../../src/core/types.js';
import {
  InvalidCursorError,
  openStore,
  openStoreReadOnly,
  ReadOnlyStoreError,
  type Store,
  UnknownRunError,
} from '../../src/store/index.js';
import { makeNodeTrace, makeRun, makeSummary, makeTrace, tempDbPath } from './fixtures.js';

const open: Store[] = [];
function track(store: Store): Store {
  open.push(store);
  return store;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('openStore', () => {
  it('creates parent directories and a WAL database with incremental auto-vacuum', () => {
    const path = tempDbPath();
    track(openStore(path)).close();
    expect(existsSync(path)).toBe(true);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    db.close();
  });
});

describe('runs', () => {
  it('stores a run exactly and reflects updates and the end', () => {
    const path = tempDbPath();
    const store = track(openStore(path));
    const run = makeRun('node-1-1700000000000-ab12');
    store.createRun(run);
    expect(store.getRun(run.id)).toEqual(run);
    expect(store.getRun('nope')).toBeUndefined();
    expect(() => store.createRun(run)).toThrow(/UNIQUE/);

    const partial = makeSummary({ status: 'running', sampleCount: 3 });
    store.updateRunningSummary(run.id, partial);
    // Readers see committed data only: a queued summary shows once written.
    expect(store.getRun(run.id)?.summary).toBeNull();
    store.flush();
    expect(store.getRun(run.id)?.summary).toEqual(partial);
    expect(store.runningRuns().map((r) => r.summary)).toEqual([partial]);
    const reader = openStoreReadOnly(path);
    expect(reader.getRun(run.id)?.summary).toEqual(partial);
    reader.close();

    const final = makeSummary();
    store.finishRun(run.id, { status: 'completed', endedWallMs: run.startedWallMs + 12_500, endedMonoNs: 1, summary: final });
    expect(store.getRun(run.id)).toEqual({ ...run, status: 'completed', endedWallMs: run.startedWallMs + 12_500, endedMonoNs: 1, summary: final });
    expect(store.runningRuns()).toEqual([]);
    // A late partial summary must not overwrite the final one.
    store.updateRunningSummary(run.id, partial);
    store.flush();
    expect(store.getRun(run.id)?.summary).toEqual(final);
  });

  it('refuses samples and summaries for unknown runs', () => {
    const store = track(openStore(tempDbPath()));
    expect(() => store.appendRunSample('ghost', makeTrace(1)[0])).toThrow(UnknownRunError);
    expect(() => store.updateRunningSummary('ghost', makeSummary())).toThrow(UnknownRunError);
    expect(() => store.finishRun('ghost', { status: 'failed', endedWallMs: 1, endedMonoNs: 1, summary: makeSummary() })).toThrow(
      UnknownRunError,
    );
  });

  it('records and returns the node inventory, latest wins', () => {
    const store = track(openStore(tempDbPath()));
    const inv = {
      node: 'node-1',
      cpuModel: 'EPYC',
      cpuCores: 16,
      memTotalMiB: 128000,
      os: 'Debian 12',
      kernel: '6.1',
      gpus: [{ index: 0, uuid: 'GPU-x', name: 'H100', totalMiB: 81559 }],
      agentVersion: '0.1.0',
      recordedWallMs: 1,
    };
    store.recordInventory(inv);
    store.recordInventory({ ...inv, agentVersion: '0.2.0', recordedWallMs: 2 });
    expect(store.getInventory('node-1')).toEqual({ ...inv, agentVersion: '0.2.0', recordedWallMs: 2 });
    expect(store.getInventory('node-2')).toBeUndefined();
  });
});

describe('samples', () => {
  it('returns committed samples in order, and a stream picks up a flush in its middle', () => {
    const writes: [number, number][] = [];
    const store = track(openStore(tempDbPath(), { onWrite: (s, n) => writes.push([s, n]), flushIntervalMs: 60_000 }));
    store.createRun(makeRun('r1'));
    store.createRun(makeRun('r2'));
    const trace = makeTrace(2500);
    const other = makeTrace(30, 9);
    trace.slice(0, 1000).forEach((s) => store.appendRunSample('r1', s));
    other.forEach((s) => store.appendRunSample('r2', s));
    store.flush();
    expect(writes).toHaveLength(1);
    expect(writes[0][1]).toBe(1030);
    expect(writes[0][0]).toBeGreaterThan(0);
    trace.slice(1000).forEach((s) => store.appendRunSample('r1', s));
    // Committed data only: the 1500 queued samples are the run manager's to tell until written.
    expect(store.getRunSamples('r1')).toEqual(trace.slice(0, 1000));
    expect(store.getRunSamples('r2')).toEqual(other);
    expect(store.getRunSamples('ghost')).toEqual([]);

    // A flush in the middle of a stream is picked up without loss or repetition.
    const streamed: RunSample[] = [];
    let i = 0;
    for (const s of store.iterateRunSamples('r1')) {
      streamed.push(s);
      if (++i === 500) store.flush();
    }
    expect(streamed).toEqual(trace);
    expect(store.getRunSamples('r1')).toEqual(trace);
    store.flush();
    expect(writes).toHaveLength(2); // the second flush above wrote; an empty one does not report
  });

  it('compacts small chunks (while running, and at the end) without changing the trace', () => {
    const path = tempDbPath();
    const store = track(openStore(path, { flushIntervalMs: 60_000 }));
    store.createRun(makeRun('r1'));
    const trace = makeTrace(3000);
    const chunkRows = (): number => {
      const db = new Database(path, { readonly: true });
      const n = db.prepare('SELECT count(*) FROM run_chunks').pluck().get() as number;
      db.close();
      return n;
    };
    for (let i = 0; i < 1500; i += 10) {
      trace.slice(i, i + 10).forEach((s) => store.appendRunSample('r1', s));
      store.flush(); // one 10-sample chunk per flush, as at a 100 ms interval
    }
    // Merged every 64 flushes: 150 small chunks became two merged ones (640 samples each) and 22 small ones.
    expect(chunkRows()).toBe(2 + 22);
    expect(store.getRunSamples('r1')).toEqual(trace.slice(0, 1500));

    for (let i = 1500; i < 3000; i += 10) {
      trace.slice(i, i + 10).forEach((s) => store.appendRunSample('r1', s));
      store.flush();
    }
    // Finishing the run in the middle of a stream: the stream still sees every sample once, in order.
    const streamed: RunSample[] = [];
    for (const s of store.iterateRunSamples('r1')) {
      streamed.push(s);
      if (streamed.length === 700) {
        store.finishRun('r1', { status: 'completed', endedWallMs: 1, endedMonoNs: 1, summary: makeSummary() });
      }
    }
    expect(streamed).toEqual(trace);
    expect(chunkRows()).toBe(5); // 640 × 4 + 440: merged pieces are never re-merged
    expect(store.getRunSamples('r1')).toEqual(trace);
  });

  it('flushes by itself on its timer', async () => {
    const path = tempDbPath();
    const store = track(openStore(path, { flushIntervalMs: 50 }));
    store.createRun(makeRun('r1'));
    const trace = makeTrace(20);
    trace.forEach((s) => store.appendRunSample('r1', s));
    const reader = openStoreReadOnly(path);
    expect(reader.getRunSamples('r1')).toEqual([]); // another connection sees only committed data
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reader.getRunSamples('r1')).toEqual(trace);
    reader.close();
  });

  it('close() writes what is queued', () => {
    const path = tempDbPath();
    const store = openStore(path, { flushIntervalMs: 60_000 });
    store.createRun(makeRun('r1'));
    const trace = makeTrace(15);
    trace.forEach((s) => store.appendRunSample('r1', s));
    const nodes = makeNodeTrace(15);
    nodes.forEach((s) => store.appendNodeSample(s));
    store.close();
    const again = track(openStore(path));
    expect(again.getRunSamples('r1')).toEqual(trace);
    expect(again.getNodeSamples(0, Infinity)).toEqual(nodes);
  });

  it('selects committed node samples by wall time, inclusive', () => {
    const store = track(openStore(tempDbPath(), { flushIntervalMs: 60_000 }));
    const t0 = 1_700_000_000_000;
    const nodes = makeNodeTrace(3000, t0); // 300 s, written as several 60-s-bounded chunks
    nodes.slice(0, 2000).forEach((s) => store.appendNodeSample(s));
    store.flush();
    nodes.slice(2000).forEach((s) => store.appendNodeSample(s));
    expect(store.getNodeSamples(t0 + 150_000, t0 + 250_000)).toEqual(nodes.slice(0, 2000).filter((s) => s.wallMs >= t0 + 150_000));
    store.flush();
    const range = store.getNodeSamples(t0 + 150_000, t0 + 250_000);
    expect(range).toEqual(nodes.filter((s) => s.wallMs >= t0 + 150_000 && s.wallMs <= t0 + 250_000));
    expect(range).toHaveLength(1001);
    expect(store.getNodeSamples(t0 - 10, t0 - 1)).toEqual([]);
  });
});

describe('listRuns', () => {
  function fill(store: Store): void {
    // 25 runs, five per start time, so pages split groups of equal startedWallMs.
    for (let i = 0; i < 25; i++) {
      store.createRun(
        makeRun(`run-${String(i).padStart(2, '0')}`, {
          startedWallMs: 1_000 + Math.floor(i / 5) * 10,
          team: i % 2 === 0 ? 'even' : 'odd',
          case: `case-${i % 3}`,
          node: i < 10 ? 'n1' : 'n2',
          status: i % 4 === 0 ? 'running' : 'completed',
        }),
      );
    }
  }

  it('pages through equal start times in a stable order without loss or repeats', () => {
    const store = track(openStore(tempDbPath()));
    fill(store);
    const all = store.listRuns({}, 100).runs.map((r) => r.id);
    const expected = [...all].sort((a, b) => {
      const ta = Math.floor(Number(a.slice(4)) / 5);
      const tb = Math.floor(Number(b.slice(4)) / 5);
      return tb - ta || (a < b ? 1 : -1);
    });
    expect(all).toEqual(expected);
    expect(all).toHaveLength(25);

    const paged: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = store.listRuns({}, 3, cursor);
      paged.push(...page.runs.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(paged).toEqual(all);
    expect(pages).toBe(9);
    expect(store.listRuns({}, 25).nextCursor).toBeNull();
  });

  it('applies every filter and combines them', () => {
    const store = track(openStore(tempDbPath()));
    fill(store);
    const ids = (f: Parameters<Store['listRuns']>[0]): string[] => store.listRuns(f, 100).runs.map((r) => r.id).sort();
    const runs = store.listRuns({}, 100).runs;
    const expectIds = (pred: (r: (typeof runs)[number]) => boolean): string[] => runs.filter(pred).map((r) => r.id).sort();
    expect(ids({ team: ['odd'] })).toEqual(expectIds((r) => r.team === 'odd'));
    expect(ids({ case: ['case-2'] })).toEqual(expectIds((r) => r.case === 'case-2'));
    expect(ids({ status: ['running'] })).toEqual(expectIds((r) => r.status === 'running'));
    expect(ids({ node: ['n1'] })).toEqual(expectIds((r) => r.node === 'n1'));
    // A list matches any of its values; an empty list matches nothing.
    expect(ids({ case: ['case-1', 'case-2'] })).toEqual(expectIds((r) => r.case === 'case-1' || r.case === 'case-2'));
    expect(ids({ status: ['running', 'completed'], node: ['n1'] })).toEqual(expectIds((r) => (r.status === 'running' || r.status === 'completed') && r.node === 'n1'));
    expect(ids({ team: [] })).toEqual([]);
    expect(ids({ sinceWallMs: 1010, untilWallMs: 1030 })).toEqual(
      expectIds((r) => r.startedWallMs >= 1010 && r.startedWallMs < 1030),
    );
    expect(ids({ team: ['even'], node: ['n2'], status: ['completed'] })).toEqual(
      expectIds((r) => r.team === 'even' && r.node === 'n2' && r.status === 'completed'),
    );
    expect(ids({ team: ['nobody'] })).toEqual([]);
    expect(store.runningRuns().map((r) => r.id)).toEqual(['run-00', 'run-04', 'run-08', 'run-12', 'run-16', 'run-20', 'run-24']);
  });

  it('rejects a forged cursor and a bad limit', () => {
    const store = track(openStore(tempDbPath()));
    expect(() => store.listRuns({}, 10, 'not-a-cursor')).toThrow(InvalidCursorError);
    expect(() => store.listRuns({}, 10, Buffer.from('{"a":1}').toString('base64url'))).toThrow(InvalidCursorError);
    expect(() => store.listRuns({}, 0)).toThrow(RangeError);
  });
});

describe('openStoreReadOnly', () => {
  it('reads but refuses every write', () => {
    const path = tempDbPath();
    const store = track(openStore(path));
    store.createRun(makeRun('r1'));
    const reader = track(openStoreReadOnly(path));
    expect(reader.getRun('r1')?.id).toBe('r1');
    expect(() => reader.createRun(makeRun('r2'))).toThrow(ReadOnlyStoreError);
    expect(() => reader.appendRunSample('r1', makeTrace(1)[0])).toThrow(ReadOnlyStoreError);
    expect(() => reader.appendNodeSample(makeNodeTrace(1)[0])).toThrow(ReadOnlyStoreError);
    expect(() => reader.applyRetention({ maxAgeDays: 0 })).toThrow(ReadOnlyStoreError);
    expect(() => openStoreReadOnly(tempDbPath('missing.db'))).toThrow();
  });
});
