// The API over real HTTP, a real SQLite store file and a LiveView holding plain data.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../src/http/metrics.js';
import { createApp, listen, type Listening } from '../../src/http/server.js';
import type { Run } from '../../src/core/types.js';
import { DataLiveView, fill, liveRun, run, summary, T0 } from './helpers.js';
import { tempStore } from './store-helpers.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

const timedOut = summary({
  status: 'timeout',
  terminationReason: 'killed at time limit',
  wallSeconds: 60,
  maxGpuMiB: 5000,
  timeLimitSeconds: 50,
  exceededTimeLimit: true,
  scoring: { timeSeconds: 3600, aucGpuMiBs: 29491200, aucCpuPctS: 360000, penalised: true },
});
const RUNS: Run[] = [
  run('r-a1'),
  run('r-b1', { team: 'beta', containerName: 'beta', startedWallMs: T0 + 30_000, node: 'node-b' }),
  run('r-a2', { case: 'case_002', status: 'timeout', startedWallMs: T0 + 60_000, timeLimitSeconds: 50, summary: timedOut }),
  run('r-run', { status: 'running', startedWallMs: T0 + 90_000, summary: null, endedWallMs: null, endedMonoNs: null }),
];

let db: ReturnType<typeof tempStore>;
let open: Listening;
let base: string;

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + path, { headers });
}

beforeAll(async () => {
  db = tempStore();
  fill(db.store, RUNS);
  const big = run('r-big', { startedWallMs: T0 - 1000, team: 'big' });
  fill(db.store, [big], 20_000);
  const live = new DataLiveView();
  live.runs = [liveRun('r-run')];
  open = await listen(createApp({ store: db.store, live, metrics: new AgentMetrics({ live }) }), '127.0.0.1:0');
  base = `http://127.0.0.1:${open.port}`;
});

afterAll(async () => {
  await open?.close();
  db?.cleanup();
});

describe('GET /api/v1/runs', () => {
  it('lists runs newest first with the summary fields flat', async () => {
    const res = await get('/api/v1/runs');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { runs: Record<string, unknown>[]; nextCursor: string | null };
    expect(body.runs.map((r) => r.id)).toEqual(['r-run', 'r-a2', 'r-b1', 'r-a1', 'r-big']);
    expect(body.nextCursor).toBeNull();
    const a2 = body.runs[1];
    expect(a2).toMatchObject({ team: 'alpha', case: 'case_002', status: 'timeout', container: 'alpha', hasSummary: true });
    expect(a2.wallSeconds).toBe(60);
    expect(a2.scoring).toEqual({ timeSeconds: 3600, aucGpuMiBs: 29491200, aucCpuPctS: 360000, penalised: true });
    expect(a2.startedAt).toBe('2024-05-01T10:01:00.000Z');
    expect(body.runs[0]).toMatchObject({ id: 'r-run', status: 'running', hasSummary: false });
  });

  it('pages with a cursor through every run exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/api/v1/runs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { runs: { id: string }[]; nextCursor: string | null };
      expect(body.runs.length).toBeLessThanOrEqual(2);
      seen.push(...body.runs.map((r) => r.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['r-run', 'r-a2', 'r-b1', 'r-a1', 'r-big']);
  });

  it.each([
    ['team=alpha', ['r-run', 'r-a2', 'r-a1']],
    ['team=alpha&status=timeout', ['r-a2']],
    ['case=case_001&status=completed', ['r-b1', 'r-a1', 'r-big']],
    ['node=node-b', ['r-b1']],
    ['since=2024-05-01T10:00:30Z', ['r-run', 'r-a2', 'r-b1']],
    [`since=${T0}&until=${T0 + 60_000}`, ['r-b1', 'r-a1']],
    ['until=2024-05-01T10:00:00.000Z', ['r-big']],
    ['team=nobody', []],
    // A repeated filter matches any of its values.
    ['team=alpha&team=beta&status=timeout&status=running', ['r-run', 'r-a2']],
    ['node=node-b&node=node-a&case=case_001&case=case_001', ['r-run', 'r-b1', 'r-a1', 'r-big']],
  ])('filters %s', async (query, ids) => {
    const res = await get(`/api/v1/runs?${query}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { runs: { id: string }[] };
    expect(body.runs.map((r) => r.id)).toEqual(ids);
  });
});

describe('one run', () => {
  it('serves the run and 404 for an unknown one', async () => {
    const ok = await get('/api/v1/runs/r-a1');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: 'r-a1', aucGpuMiBs: 1000.5, flareFormulas: { maxGpuStableMiB: 3400 } });
    const missing = await get('/api/v1/runs/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'run not found: nope' });
    expect((await get('/api/v1/runs/nope/samples?format=csv')).status).toBe(404);
  });

  it('serves samples as CSV in the documented columns', async () => {
    const res = await get('/api/v1/runs/r-a1/samples?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await res.text()).toBe(fixture('samples-a1.csv'));
  });

  it('serves samples as JSON, and streams a long trace', async () => {
    const small = (await (await get('/api/v1/runs/r-a1/samples')).json()) as { samples: Record<string, unknown>[] };
    expect(small.samples).toHaveLength(5);
    expect(small.samples[0]).toEqual({ tS: 0.05, monoNs: 1_050_000_000, wallMs: T0 + 50, cpuSeconds: 0, ramMiB: 100, gpuMiB: null, gpuDeviceMiB: 3000 });
    const big = await get('/api/v1/runs/r-big/samples?format=csv');
    expect(big.headers.get('transfer-encoding')).toBe('chunked');
    const text = await big.text();
    expect(text.trimEnd().split('\n')).toHaveLength(20_001);
    const bigJson = (await (await get('/api/v1/runs/r-big/samples?format=json')).json()) as { samples: unknown[] };
    expect(bigJson.samples).toHaveLength(20_000);
  });
});

describe('FLARE export', () => {
  // The official fixtures, by hand (flare22/flare24 profiles, docs/scoring.md): the run lives 1.0 → 13.5 s
  // (mono), no create/destroy known, so the span is modelled: t0 = 1.0 − 0.18 − 0.06 = 0.76 s, the
  // monitor ends at 13.5 + 0.015 + 0.012 = 13.527 s, Time = 12.772 s → 12.77. Ticks from 0.79 s every
  // 0.1024 s up to 13.527 s: 125, each reading the held 3000 MiB → AUC 125 × 3000 × 0.1 = 37500.
  // The store has no host samples here, so CPU and RAM stay empty (unknown, not zero).
  it.each([
    ['/api/v1/export/flare22.csv?team=alpha', 'flare22-alpha-exact.csv'],
    ['/api/v1/export/flare22.csv?team=alpha&figures=exact', 'flare22-alpha-exact.csv'],
    ['/api/v1/export/flare22.csv?team=alpha&figures=official', 'flare22-alpha-official.csv'],
    ['/api/v1/export/flare24.csv?team=alpha&figures=official', 'flare24-alpha-official.csv'],
    ['/api/v1/export/official.csv?team=alpha&profile=flare24', 'flare24-alpha-official.csv'],
    ['/api/v1/export/flare22.csv?until=2024-05-01T10:05:00Z&since=2024-05-01T10:00:00Z', 'flare22-all-exact.csv'],
  ])('%s matches %s', async (path, file) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await res.text()).toBe(fixture(file));
  });
});

describe('GET /api/v1/ranking', () => {
  it('ranks the teams on the stored efficiency under a profile; accuracy metrics are skipped', async () => {
    const res = await get('/api/v1/ranking?profile=flare23&since=2024-05-01T10:00:00Z&until=2024-05-01T10:05:00Z');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { profile: string; metrics: string[]; skippedMetrics: string[]; teams: { team: string; rank: number }[] };
    expect(body.profile).toBe('flare23');
    expect(body.metrics).toEqual(['time', 'aucGpu']);
    expect(body.skippedMetrics).toEqual(['DSC', 'NSD']);
    expect(body.teams.map((t) => t.team).sort()).toEqual(['alpha', 'beta']);
  });

  it.each(['profile=../x', 'profile=flare99', 'bogus=1'])('refuses %s with 400', async (q) => {
    expect((await get(`/api/v1/ranking?${q}`)).status).toBe(400);
  });
});

describe('GET /api/v1/ranking with the organiser\'s accuracy CSV (--accuracy-csv)', () => {
  type Body = { accuracy: string | null; metrics: string[]; skippedMetrics: string[]; teams: { team: string; rank: number; meanRankByMetric: Record<string, number> }[] };
  it('ranks DSC and NSD with the efficiency, per filter, re-reads the file and says 503 when it breaks', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flare-acc-')), 'accuracy.csv');
    // beta wins on accuracy in case_001; alpha alone has case_002 (beta: worst there).
    writeFileSync(file, 'team,case,metric,value\nalpha,case_001,DSC,0.80\nbeta,case_001,DSC,0.90\nalpha,case_001,NSD,0.70\nbeta,case_001,NSD,0.95\nalpha,case_002,DSC,0.50\nalpha,case_002,NSD,0.50\n');
    const s = await listen(createApp({ store: db.store, live: null, metrics: null, accuracyCsv: file }), '127.0.0.1:0');
    const rank = async (q: string): Promise<{ status: number; body: Body }> => {
      const res = await fetch(`http://127.0.0.1:${s.port}/api/v1/ranking?${q}`);
      return { status: res.status, body: (await res.json()) as Body };
    };
    try {
      const window = 'since=2024-05-01T10:00:00Z&until=2024-05-01T10:05:00Z';
      const { status, body } = await rank(`profile=flare23&${window}`);
      expect(status).toBe(200);
      expect(body.accuracy).toBe('organiser-csv');
      expect(body.metrics).toEqual(['DSC', 'NSD', 'time', 'aucGpu']);
      expect(body.skippedMetrics).toEqual([]);
      const beta = body.teams.find((t) => t.team === 'beta');
      // case_001: beta 1st on DSC and NSD. case_002: beta has no value, and alpha's run there went over
      // its limit (r-a2), so under flare23's failedCaseAccuracy 'last' its DSC ranks last too: a tie,
      // rank 1 each ('min' ties). beta: (1 + 1) / 2; alpha's NSD: (2 + 1) / 2.
      expect(beta?.meanRankByMetric.DSC).toBe(1);
      expect(body.teams.find((t) => t.team === 'alpha')?.meanRankByMetric.NSD).toBe(1.5);
      // A team filter ranks that team's cases only: beta's accuracy rows are left out.
      expect((await rank(`profile=flare23&team=alpha&${window}`)).body.teams.map((t) => t.team)).toEqual(['alpha']);
      // The file changes while the agent runs: the next request ranks with the new values.
      writeFileSync(file, 'team,case,metric,value\nalpha,case_001,DSC,0.99\nbeta,case_001,DSC,0.10\n');
      const again = await rank(`profile=flare23&${window}`);
      expect(again.body.teams.find((t) => t.team === 'alpha')?.meanRankByMetric.DSC).toBe(1);
      expect(again.body.skippedMetrics).toEqual(['NSD']);
      writeFileSync(file, 'team,case,metric,value\nalpha,case_001,DSC,high\n');
      const broken = await rank(`profile=flare23&${window}`);
      expect(broken.status).toBe(503);
      expect(JSON.stringify(broken.body)).toContain('line 2: value must be a finite number');
      // Replaced by a FIFO: never opened for a blocking read (it would hang this thread, /healthz
      // too); the last good version ranks, with a warning.
      rmSync(file);
      expect(spawnSync('mkfifo', [file]).status).toBe(0);
      const fifo = await rank(`profile=flare23&${window}`);
      expect(fifo.status).toBe(200);
      expect(fifo.body.teams.find((t) => t.team === 'alpha')?.meanRankByMetric.DSC).toBe(1);
      expect(Array.isArray((fifo.body as Body & { warnings: string[] }).warnings)).toBe(true);
      // A value outside the profile's range: not ranked, said.
      rmSync(file);
      writeFileSync(file, 'team,case,metric,value\nalpha,case_001,DSC,5\n');
      const out = await rank(`profile=flare23&${window}`);
      expect(out.status).toBe(503);
      expect(JSON.stringify(out.body)).toContain('does not fit profile flare23: line 2: DSC 5 is outside');
    } finally {
      await s.close();
    }
  });

  it('a profile with another GPU tolerance integrates the stored traces again (generic: 0 MiB)', async () => {
    const res = await get('/api/v1/ranking?profile=generic');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Body;
    expect(body.metrics).toContain('aucGpu');
  });
});

describe('bad input never gives a 500', () => {
  it.each([
    ['/api/v1/runs?limit=0', 'limit'],
    ['/api/v1/runs?limit=1001', 'limit'],
    ['/api/v1/runs?limit=abc', 'limit'],
    ['/api/v1/runs?limit=-5', 'limit'],
    ['/api/v1/runs?status=running&status=weird', 'status'],
    ['/api/v1/runs?since=1&since=2', 'since'],
    [`/api/v1/runs?${Array.from({ length: 101 }, (_, i) => `team=t${i}`).join('&')}`, 'team'],
    ['/api/v1/runs?status=weird', 'status'],
    ['/api/v1/runs?since=yesterday', 'since'],
    ['/api/v1/runs?until=2024-13-45T99:00:00Z', 'until'],
    ['/api/v1/runs?since=2024-05-02&until=2024-05-01', 'until'],
    ['/api/v1/runs?team=', 'team'],
    [`/api/v1/runs?team=${'x'.repeat(300)}`, 'team'],
    ['/api/v1/runs?cursor=garbage', 'cursor'],
    ['/api/v1/runs?cursor=eyJ4IjoxfQ', 'cursor'],
    ['/api/v1/runs?teams=alpha', 'teams'],
    ['/api/v1/runs?team[a]=b', 'team[a]'],
    ['/api/v1/runs/r-a1/samples?format=xml', 'format'],
    ['/api/v1/runs/r-a1?x=1', 'x'],
    ['/api/v1/export/flare22.csv?figures=best', 'figures'],
    ['/api/v1/export/flare24.csv?until=1&until=2', 'until'],
    ['/api/v1/export/official.csv?profile=../../etc/passwd', 'profile'],
    ['/api/v1/export/flare22.csv?profile=flare99', 'profile'],
  ])('%s → 400 naming %s', async (path, param) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error.startsWith(`${param}:`)).toBe(true);
  });

  it.each([
    '/api/v1/runs/%E0%A4%A',
    '/api/v1/runs/%00',
    `/api/v1/runs/${'a'.repeat(5000)}`,
    '/api/v1/nothing',
    '/api/v2/runs',
    '/api/v1/runs/..%2F..%2Fetc%2Fpasswd/samples',
  ])('%s → 4xx JSON', async (path) => {
    const res = await get(path);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toMatch(/json/);
  });
});

describe('health and metrics', () => {
  it('serves /healthz from the live view and /metrics', async () => {
    const h = (await (await get('/healthz')).json()) as Record<string, unknown>;
    expect(h).toMatchObject({ mode: 'agent', node: 'node-a', sources: { sqlite: { up: false, reason: 'disk full' } } });
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await m.text()).toContain('flare_container_cpu_seconds_total{team="alpha",case="case_001",container="alpha"} 1.5');
  });

  it('says so when it serves a database only', async () => {
    const s = await listen(createApp({ store: db.store, live: null, metrics: null }), '127.0.0.1:0');
    try {
      const h = await fetch(`http://127.0.0.1:${s.port}/healthz`);
      expect(await h.json()).toEqual({ mode: 'database-only', agent: null });
      expect((await fetch(`http://127.0.0.1:${s.port}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${s.port}/api/v1/runs/r-a1`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('bearer token', () => {
  async function withServer(opts: { metricsOpen?: boolean }, fn: (url: string) => Promise<void>): Promise<void> {
    const live = new DataLiveView();
    const s = await listen(
      createApp({ store: db.store, live, metrics: new AgentMetrics({ live }), token: 's3cret-token', ...opts }),
      '127.0.0.1:0',
    );
    try {
      await fn(`http://127.0.0.1:${s.port}`);
    } finally {
      await s.close();
    }
  }

  it('guards /api and (by default) /metrics, leaves /healthz open', async () => {
    await withServer({}, async (url) => {
      const none = await fetch(`${url}/api/v1/runs`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await fetch(`${url}/api/v1/runs`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${url}/api/v1/runs`, { headers: { authorization: 's3cret-token' } })).status).toBe(401);
      expect((await fetch(`${url}/api/v1/runs`, { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
      expect((await fetch(`${url}/api/v1/export/flare22.csv`)).status).toBe(401);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
    });
  });

  it('leaves /metrics open only when metricsOpen is set', async () => {
    await withServer({ metricsOpen: true }, async (url) => {
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      expect((await fetch(`${url}/api/v1/runs`)).status).toBe(401);
    });
  });
});
