// The heavy reads (ranking, exports) run on a thread of their own: while one is held open there,
// /healthz and /metrics answer at once, reads past the bound are refused with 503 and Retry-After,
// and a thread that dies fails its reads (500) and is started again for the next one.
import { afterEach, describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../src/http/metrics.js';
import { HeavyReadThread } from '../../src/http/heavy-read-thread.js';
import { createApp, listen, type Listening } from '../../src/http/server.js';
import { DataLiveView } from './helpers.js';
import { tempStore } from './store-helpers.js';

const HELD_WORKER = new URL('./fixtures/held-read-worker.mjs', import.meta.url);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(pool: HeavyReadThread): Promise<string> {
  const db = tempStore();
  const live = new DataLiveView();
  const open: Listening = await listen(createApp({ store: db.store, live, metrics: new AgentMetrics({ live }), heavy: pool }), '127.0.0.1:0');
  cleanups.push(() => db.cleanup(), () => pool.close(), () => open.close());
  return `http://127.0.0.1:${open.port}`;
}

async function timed(url: string): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  return { ms: performance.now() - t0, status: res.status };
}

describe('heavy reads on their own thread', () => {
  it('/healthz and /metrics answer within 100 ms while a ranking is held open; the ranking then answers', async () => {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const base = await serve(new HeavyReadThread({ script: HELD_WORKER, workerData: { gate } }));
    const held = fetch(`${base}/api/v1/ranking?bootstrap=1000`);
    await new Promise((r) => setTimeout(r, 200));
    const slowest = { healthz: 0, metrics: 0 };
    for (let i = 0; i < 20; i++) {
      const h = await timed(`${base}/healthz`);
      const m = await timed(`${base}/metrics`);
      expect([h.status, m.status]).toEqual([200, 200]);
      slowest.healthz = Math.max(slowest.healthz, h.ms);
      slowest.metrics = Math.max(slowest.metrics, m.ms);
    }
    expect(slowest.healthz).toBeLessThan(100);
    expect(slowest.metrics).toBeLessThan(100);
    // Still held: it has not answered.
    const raced = await Promise.race([held.then(() => 'answered'), new Promise((r) => setTimeout(() => r('held'), 50))]);
    expect(raced).toBe('held');
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const res = await held;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ route: 'ranking', query: { bootstrap: '1000' } });
  });

  it('past the bound a read is refused at once with 503 and Retry-After; the waiting ones are answered in turn', async () => {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const base = await serve(new HeavyReadThread({ script: HELD_WORKER, workerData: { gate }, maxInFlight: 2 }));
    const first = fetch(`${base}/api/v1/export/flare22.csv?figures=official`);
    const second = fetch(`${base}/api/v1/ranking`);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const refused = await fetch(`${base}/api/v1/export/official.csv`);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: string }).error).toMatch(/2 heavy reads are in progress or waiting; retry after \d+ s/);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    expect(((await (await first).json()) as { route: string }).route).toBe('flare22.csv');
    expect(((await (await second).json()) as { route: string }).route).toBe('ranking');
    // Room again.
    expect((await fetch(`${base}/api/v1/ranking`)).status).toBe(200);
  });

  it('a thread that dies fails its read with 500 and is started again for the next one', async () => {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(gate, 0, 1);
    const workerData: { gate: Int32Array; crash: boolean } = { gate, crash: true };
    const pool = new HeavyReadThread({ script: HELD_WORKER, workerData });
    const base = await serve(pool);
    expect((await fetch(`${base}/api/v1/ranking`)).status).toBe(500);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    workerData.crash = false;
    const again = await fetch(`${base}/api/v1/ranking`);
    expect(again.status).toBe(200);
    expect(pool.inFlight).toBe(0);
  });
});

describe('the heavy-read thread heap bound', () => {
  it('a read past it is refused (503, naming the bound and --read-heap-mib); one queued behind it is told to retry; the next read gets a new thread', async () => {
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const base = await serve(new HeavyReadThread({ script: HELD_WORKER, workerData: { gate }, heapMib: 32 }));
    const hog = fetch(`${base}/api/v1/ranking?hog=1`);
    await new Promise((r) => setTimeout(r, 100));
    const behind = fetch(`${base}/api/v1/ranking`);
    await new Promise((r) => setTimeout(r, 200));
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const res = await hog;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/more memory than the heavy-read thread may use \(32 MiB of heap\).*--read-heap-mib/);
    const queued = await behind;
    expect(queued.status).toBe(503);
    expect(queued.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/ranking`)).status).toBe(200);
  });
});

describe('the ranking kept between requests', () => {
  it('is answered again from the runs when one finishes, equal to a fresh computation; kept while nothing changes', async () => {
    const { answerHeavyRead, heavyContext } = await import('../../src/http/heavy-reads.js');
    const { buildSeason } = await import('../../bench/season-db.js');
    const { openStore } = await import('../../src/store/index.js');
    const { makeSummary } = await import('../store/fixtures.js');
    const { tempDir } = await import('../helpers.js');
    const dir = tempDir('flare-ranking-kept-');
    const season = buildSeason(`${dir}/season.db`, `${dir}/acc.csv`, 100);
    const writer = openStore(season.db);
    const ctx = heavyContext(writer, season.accuracyCsv, () => {});
    const read = { route: 'ranking' as const, query: { bootstrap: '200' } };
    const first = answerHeavyRead(ctx, read);
    expect(answerHeavyRead(ctx, read).body).toBe(first.body);
    expect(ctx.rankings.size).toBe(1);
    // A new best run for team-50 on every case it ran: the ranking must move.
    const [worst] = JSON.parse(first.body).teams.slice(-1) as { team: string }[];
    const runs = writer.scoringRuns({ team: [worst.team] });
    for (const [i, r] of runs.entries()) {
      const id = `better-${i}`;
      const started = Date.now() + i;
      writer.createRun({ id, kind: 'container', team: r.team, case: r.case, node: 'n', status: 'running', startedWallMs: started, startedMonoNs: 1, endedWallMs: null, endedMonoNs: null, timeLimitSeconds: null, nCpu: 1, intervalMs: 100, previousRunId: null, summary: null });
      writer.flush();
      const s = makeSummary();
      writer.finishRun(id, { status: 'completed', endedWallMs: started + 1, endedMonoNs: 2, summary: { ...s, gpuToleranceMiB: 2048, scoring: { timeSeconds: 0.001, aucGpuMiBs: 0, aucCpuPctS: 0, penalised: false } } });
    }
    const after = answerHeavyRead(ctx, read);
    expect(after.body).not.toBe(first.body);
    const fresh = answerHeavyRead(heavyContext(writer, season.accuracyCsv, () => {}), read);
    expect(after.body).toBe(fresh.body);
    writer.close();
  });
});
