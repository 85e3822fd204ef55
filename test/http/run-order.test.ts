// GET /api/v1/runs?sort=&offset=&total=1: the server sorts and pages, every order by an index (no sort
// of every run), pages that cover each matching run exactly once in the order a reader expects
// (unknown figures last in both directions), the total, and bad parameters refused.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.js';
import { RUN_ORDER_KEYS, RUN_ORDERS, orderBy, type RunOrder } from '../../src/store/run-order.js';
import { run, summary, T0 } from './helpers.js';
import { servedRuns } from './store-helpers.js';

const TEAMS = ['delta', 'alpha', 'charlie', 'bravo'];
const STATUSES = ['completed', 'failed', 'timeout', 'oom'] as const;

/** 61 runs: repeated values (ties), unknown figures, a running run without a summary. */
function runs(): Run[] {
  const out: Run[] = [];
  for (let i = 0; i < 60; i++) {
    const unknownFormulas = i % 5 === 0;
    const s = summary({
      status: STATUSES[i % 4],
      wallSeconds: 10 + (i % 7), // ties
      maxGpuMiB: i % 3 === 0 ? null : 1000 + ((i * 37) % 11) * 100,
      aucRamMiBs: (i * 7919) % 1000,
      scoring: { timeSeconds: 10 + (i % 7), aucGpuMiBs: (i * 104_729) % 5000, aucCpuPctS: (i % 9) * 100, penalised: false },
    });
    if (s.flareFormulas) {
      s.flareFormulas = { ...s.flareFormulas, aucGpuMiBs: unknownFormulas ? null : (i * 31) % 17, maxGpuStableMiB: unknownFormulas ? null : 500 + (i % 4), aucCpuPctS: null, aucRamMiBs: i % 2 ? 3 : null };
    }
    out.push(run(`r${String(i).padStart(2, '0')}`, { team: TEAMS[i % 4], case: `case_${String(i % 13).padStart(3, '0')}`, node: `node-${i % 3}`, status: STATUSES[i % 4], startedWallMs: T0 + Math.floor(i / 2) * 1000, summary: s }));
  }
  out.push(run('r-live', { status: 'running', startedWallMs: T0 + 5500, summary: null, endedWallMs: null, endedMonoNs: null }));
  return out;
}

const get = (r: Record<string, unknown>, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), r);

/** The order a reader expects, computed here: unknown last; ties by creation (figures) or start, id. */
function expected(all: Record<string, unknown>[], order: RunOrder, created: Map<string, number>): string[] {
  const sign = order.descending ? -1 : 1;
  const figure = RUN_ORDERS[order.key].figure;
  return [...all]
    .sort((a, b) => {
      const x = get(a, order.key);
      const y = get(b, order.key);
      const unknownX = x === null || x === undefined;
      const unknownY = y === null || y === undefined;
      if (unknownX !== unknownY) return unknownX ? 1 : -1;
      if (!unknownX && x !== y) return sign * ((x as number | string) < (y as number | string) ? -1 : 1);
      if (figure) return sign * (created.get(a.id as string)! - created.get(b.id as string)!);
      if (a.startedWallMs !== b.startedWallMs) return sign * ((a.startedWallMs as number) - (b.startedWallMs as number));
      return sign * ((a.id as string) < (b.id as string) ? -1 : 1);
    })
    .map((r) => r.id as string);
}

let served: Awaited<ReturnType<typeof servedRuns>>;
let base: string;

beforeAll(async () => {
  served = await servedRuns(runs());
  base = `http://127.0.0.1:${served.port}/api/v1/runs`;
});

afterAll(async () => {
  await served?.close();
});

async function page(query: string): Promise<{ runs: Record<string, unknown>[]; nextOffset: number | null; nextCursor: string | null; total?: number }> {
  const res = await fetch(`${base}?${query}`);
  expect(res.status, query).toBe(200);
  return (await res.json()) as { runs: Record<string, unknown>[]; nextOffset: number | null; nextCursor: string | null; total?: number };
}

describe('GET /api/v1/runs sorted and paged by the server', () => {
  it('every order, both directions: pages cover every run once, in the expected order, with the total', async () => {
    const all = (await page('limit=1000')).runs;
    expect(all).toHaveLength(61);
    const created = new Map(runs().map((r, i) => [r.id, i]));
    for (const key of RUN_ORDER_KEYS) {
      for (const descending of [false, true]) {
        const sort = `${descending ? '-' : ''}${key}`;
        const seen: string[] = [];
        let offset: number | null = 0;
        while (offset !== null) {
          const p = await page(`sort=${sort}&offset=${offset}&limit=7&total=1`);
          expect(p.total).toBe(61);
          expect(p.nextCursor).toBeNull();
          seen.push(...p.runs.map((r) => r.id as string));
          offset = p.nextOffset;
        }
        expect(seen, sort).toEqual(expected(all, { key, descending }, created));
      }
    }
  });

  it('filters, then sorts; an offset past the end is an empty last page', async () => {
    const p = await page('team=alpha&status=failed&sort=-scoring.aucGpuMiBs&limit=5&total=1');
    expect(p.total).toBe(15); // every alpha run is a failed one
    expect(p.runs).toHaveLength(5);
    expect(p.nextOffset).toBe(5);
    expect(p.runs.every((r) => r.team === 'alpha' && r.status === 'failed')).toBe(true);
    const values = p.runs.map((r) => get(r, 'scoring.aucGpuMiBs') as number);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    const past = await page('sort=team&offset=500&total=1');
    expect(past).toMatchObject({ runs: [], nextOffset: null, total: 61 });
    // The default list keeps its cursor; total counts the filter.
    const first = await page('limit=2&total=1&team=bravo');
    expect(first.total).toBe(15);
    expect(first.nextCursor).not.toBeNull();
  });

  it('refuses an unknown order, a cursor with an order, and bad offsets or totals (400, naming the parameter)', async () => {
    for (const [query, param] of [
      ['sort=summary', 'sort'],
      ['sort=-', 'sort'],
      ['sort=team;drop', 'sort'],
      ['sort=team&cursor=abc', 'cursor'],
      ['offset=-1', 'offset'],
      ['offset=1e3', 'offset'],
      ['offset=99999999999', 'offset'],
      ['total=yes', 'total'],
      ['sort=team&sort=case', 'sort'],
    ]) {
      const res = await fetch(`${base}?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error, query).toMatch(new RegExp(`^${param}:`));
    }
  });

  it('reads every order through an index: no sort of every run (SQLite plans no temp B-tree)', () => {
    const check = new Database(served.path, { readonly: true });
    try {
      for (const key of RUN_ORDER_KEYS) {
        for (const descending of [false, true]) {
          const spec = RUN_ORDERS[key];
          const where = spec.figure && !descending ? `WHERE ${spec.sql} IS NOT NULL` : '';
          const plan = check.prepare(`EXPLAIN QUERY PLAN SELECT id FROM runs ${where} ORDER BY ${orderBy({ key, descending })} LIMIT 50 OFFSET 100`).all() as { detail: string }[];
          const text = plan.map((p) => p.detail).join(' | ');
          expect(text, `${key} ${descending}`).toMatch(/USING (COVERING )?INDEX/);
          expect(text, `${key} ${descending}`).not.toMatch(/TEMP B-TREE/);
        }
      }
    } finally {
      check.close();
    }
  });
});
