// The runs page at season size, as a person sees it: headless Chromium (Debian's, through
// playwright-core) against the built agent on a database of finished runs. Median of 3 fresh loads:
// the time from navigation to the first 50 rows, to the next page, and to a sort by wall time, and the
// bytes of runs JSON each view fetched. Then the API's sorted pages on a copy grown --scale times
// (runs copied under new ids): each order's first, middle and last page, median of 3, the count, and
// the page in Chromium again on the grown copy.
// Run: npm run build && node dist/bench/runs-page.js --db FILE [--scale 10] [--no-scale]
// (FLARE_BENCH_CLI names another build's CLI, for before/after figures on its own database.)
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Page } from 'playwright-core';
import { startBenchAgent } from './agent-child.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const DB = arg('--db');
if (!DB) throw new Error('--db FILE is required');
const SCALE = Number(arg('--scale') ?? 10);
const CHROMIUM = process.env.FLARE_TEST_CHROMIUM ?? '/usr/bin/chromium';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

async function pageFigures(page: Page, base: string): Promise<Record<string, number>> {
  let bytes = 0;
  page.on('response', (res) => {
    if (new URL(res.url()).pathname.endsWith('/api/v1/runs')) void res.body().then((b) => (bytes += b.length), () => {});
  });
  await page.goto(`${base}#/runs`);
  await page.waitForSelector('#runs-table tbody tr', { timeout: 120_000 });
  const firstPaintMs = await page.evaluate(() => performance.now());
  const firstBytes = bytes;
  const t1 = performance.now();
  await page.click('text=next ›');
  await page.waitForFunction(() => document.getElementById('page-info')?.textContent?.startsWith('page 2 '), undefined, { timeout: 120_000 });
  const pageChangeMs = performance.now() - t1;
  const t2 = performance.now();
  await page.click('#runs-table th[data-sort="wallSeconds"]');
  await page.waitForFunction(() => document.querySelector('#runs-table th[data-sort="wallSeconds"]')?.textContent?.endsWith('▲'), undefined, { timeout: 120_000 });
  const sortChangeMs = performance.now() - t2;
  return { firstPaintMs, pageChangeMs, sortChangeMs, firstViewRunsJsonBytes: firstBytes };
}

async function browserFigures(db: string): Promise<Record<string, number>> {
  const agent = await startBenchAgent(db);
  const userDataDir = mkdtempSync(join(tmpdir(), 'flare-bench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], viewport: { width: 1400, height: 1000 } });
  try {
    const runs: Record<string, number>[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      runs.push(await pageFigures(page, `${agent.base}/`));
      await page.close();
    }
    const out: Record<string, number> = {};
    for (const k of Object.keys(runs[0])) out[k] = round(median(runs.map((r) => r[k])));
    return out;
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    await agent.stop();
  }
}

/** The API's sorted pages on a copy with SCALE× the runs, through the built store (read-only). */
async function scaledFigures(db: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'flare-bench-runs-'));
  const copy = join(dir, 'scaled.db');
  try {
    copyFileSync(db, copy);
    const w = new Database(copy);
    const cols = (w.prepare('PRAGMA table_info(runs)').all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'rid');
    const spanMs = w.prepare('SELECT max(started_wall_ms) - min(started_wall_ms) + 1000 FROM runs').pluck().get() as number;
    const select = cols.map((c) => (c === 'id' ? "id || '-' || ?" : c === 'started_wall_ms' ? 'started_wall_ms + ? * ?' : c)).join(', ');
    const grow = w.prepare(`INSERT INTO runs (${cols.join(', ')}) SELECT ${select} FROM runs WHERE instr(id, '-x') = 0`);
    w.transaction(() => {
      for (let k = 1; k < SCALE; k++) grow.run(`x${k}`, k, spanMs);
    })();
    w.close();
    const { openStoreReadOnly } = await import('../src/store/index.js');
    const { RUN_ORDER_KEYS } = await import('../src/store/run-order.js');
    const store = openStoreReadOnly(copy);
    try {
      const total = store.countRuns({});
      const time = (f: () => unknown): number => {
        const ms: number[] = [];
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          f();
          ms.push(performance.now() - t0);
        }
        return median(ms);
      };
      const byOrder: Record<string, number> = {};
      for (const key of RUN_ORDER_KEYS) {
        for (const descending of [false, true]) {
          const worst = Math.max(...[0, total >> 1, total - 50].map((offset) => time(() => store.listRunsSorted({ filter: {}, order: { key, descending }, offset, limit: 50 }))));
          byOrder[`${descending ? '-' : ''}${key}`] = round(worst);
        }
      }
      const figures = {
        runs: total,
        countMs: round(time(() => store.countRuns({}))),
        pageMaxMs: Math.max(...Object.values(byOrder)),
        teamFilterSortedPageMs: round(time(() => store.listRunsSorted({ filter: { team: ['team-07'] }, order: { key: 'scoring.aucGpuMiBs', descending: false }, offset: 500, limit: 50 }))),
        slowestPageMsByOrder: byOrder,
      };
      store.close();
      return { ...figures, browser: await browserFigures(copy) };
    } catch (err) {
      store.close();
      throw err;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const out: Record<string, unknown> = { db: DB, browser: await browserFigures(DB) };
if (!process.argv.includes('--no-scale')) out[`scaled${SCALE}x`] = await scaledFigures(DB);
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
