// The page at season size, in real headless Chromium against a real agent on a generated 10 000-run
// database: the runs list asks the agent for one page (it sorted and paged every run in the browser,
// ~19 MB of JSON for 50 rows, on every click), shows the total, pages and sorts; the leaderboard
// draws the ranking before the bootstrap's intervals. The first paint and one page change are
// measured and written to test-artifacts/web/season-page.json with a screenshot (docs/ keeps one).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, tempDir } from '../helpers.js';
import { hasChromium, openAgentPage, type AgentPage } from './browser.js';
import { SEASON_TEAMS, writeSeason } from './season-fixture.js';

const RUNS = 10_000;
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'web');
const available = hasChromium();
if (!available && requireServices()) throw new Error('chromium is required (FLARE_TEST_REQUIRE_SERVICES) but /usr/bin/chromium is missing');

interface ListAnswer {
  runs: { id: string; wallSeconds: number }[];
  total: number;
}

describe.skipIf(!available)('the page at season size (10 000 runs) in headless Chromium', () => {
  const dir = tempDir('flare-season-page-');
  const db = join(dir, 'season.db');
  let session: AgentPage;
  let base: string;
  let page: Page;
  let consoleErrors: string[];
  /** Every runs-list answer the page fetched: its URL and body size. */
  const lists: { url: URL; bytes: number }[] = [];
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const t0 = performance.now();
    writeSeason(db, RUNS);
    figures.generateMs = Math.round(performance.now() - t0);
    session = await openAgentPage(['--db', db, '--gpu-source', 'none']);
    ({ base, page, consoleErrors } = session);
    page.on('response', (res: Response) => {
      const url = new URL(res.url());
      if (url.pathname.endsWith('/api/v1/runs')) void res.body().then((b) => lists.push({ url, bytes: b.length }), () => {});
    });
  }, 120_000);

  afterAll(async () => {
    writeFileSync(join(ARTIFACTS, 'season-page.json'), JSON.stringify(figures, null, 2) + '\n');
    console.log('season page figures:', figures);
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (query: string): Promise<ListAnswer> => (await (await fetch(`${base}api/v1/runs?${query}`)).json()) as ListAnswer;
  const rowIds = (): Promise<string[]> => page.$$eval('#runs-table tbody tr', (rows) => rows.map((r) => r.getAttribute('data-run-id') ?? ''));

  it('runs list: one page of 50 with the total; next page and a sort each fetch one page', async () => {
    await page.goto(`${base}#/runs`);
    await page.waitForSelector('#runs-table tbody tr');
    figures.firstPaintMs = Math.round(await page.evaluate(() => performance.now())); // since navigation start
    expect(await page.textContent('#page-info')).toBe(`page 1 of ${RUNS / 50} · ${RUNS} runs`);
    expect(await rowIds()).toEqual((await api('limit=50')).runs.map((r) => r.id));

    const t1 = performance.now();
    await page.click('text=next ›');
    await page.waitForFunction(() => document.getElementById('page-info')?.textContent?.startsWith('page 2 '));
    figures.pageChangeMs = Math.round(performance.now() - t1);
    expect(await rowIds()).toEqual((await api('sort=-startedWallMs&offset=50&limit=50')).runs.map((r) => r.id));

    // Sort by wall time (ascending), on the server: the page's rows are the API's first page in that order.
    const t2 = performance.now();
    await page.click('#runs-table th[data-sort="wallSeconds"]');
    await page.waitForFunction(() => document.querySelector('#runs-table th[data-sort="wallSeconds"]')?.textContent?.endsWith('▲'));
    await page.waitForSelector('#runs-table tbody tr');
    figures.sortChangeMs = Math.round(performance.now() - t2);
    const sorted = (await api('sort=wallSeconds&offset=0&limit=50')).runs;
    expect(await rowIds()).toEqual(sorted.map((r) => r.id));
    expect(sorted.map((r) => r.wallSeconds)).toEqual([...sorted.map((r) => r.wallSeconds)].sort((a, b) => a - b));

    // Three views, three requests, each one page: nothing walks the whole list any more.
    await expect.poll(() => lists.length).toBe(3);
    expect(lists.every((l) => l.url.searchParams.get('limit') === '50' && l.url.searchParams.get('total') === '1')).toBe(true);
    figures.listBytesPerView = Math.max(...lists.map((l) => l.bytes));
    expect(figures.listBytesPerView).toBeLessThan(200_000);
    await page.screenshot({ path: join(ARTIFACTS, 'runs-10k.png'), fullPage: false });
    expect(consoleErrors).toEqual([]);
  });

  it('a filter narrows the total; a page past the end says so', async () => {
    await page.goto(`${base}#/runs?team=team-07&sort=-scoring.aucGpuMiBs`);
    await page.waitForSelector('#runs-table tbody tr');
    expect(await page.textContent('#page-info')).toBe(`page 1 of ${RUNS / SEASON_TEAMS / 50} · ${RUNS / SEASON_TEAMS} runs`);
    expect(await page.locator('#runs-table td.team').allTextContents()).toEqual(Array(50).fill('team-07'));
    await page.goto(`${base}#/runs?page=9999`);
    await page.waitForSelector('#page-info');
    expect(await page.textContent('main')).toContain(`No page 9999: the list has ${RUNS / 50}.`);
    expect(consoleErrors).toEqual([]);
  });

  it('leaderboard: the ranking first, then the bootstrap intervals fill in', async () => {
    // The bootstrap's answer is held back a moment so that the first drawing can be seen for certain.
    await page.route('**/api/v1/ranking?*bootstrap=*', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    const t0 = performance.now();
    await page.goto(`${base}#/leaderboard?profile=flare22`);
    await page.waitForSelector('#leaderboard[data-bootstrap="pending"] tbody tr');
    figures.leaderboardRankingMs = Math.round(performance.now() - t0);
    expect(await page.locator('#leaderboard tbody tr').count()).toBe(SEASON_TEAMS);
    expect(await page.locator('#leaderboard .rank-interval').count()).toBe(0);
    const places = await page.locator('#leaderboard tbody tr td:first-child').allTextContents();
    await page.waitForSelector('#leaderboard[data-bootstrap="done"]', { timeout: 60_000 });
    figures.leaderboardBootstrapMs = Math.round(performance.now() - t0);
    expect(await page.locator('#leaderboard .rank-interval').count()).toBe(SEASON_TEAMS);
    expect(await page.locator('#leaderboard tbody tr td:first-child').allTextContents()).toEqual(places);
    await page.unroute('**/api/v1/ranking?*bootstrap=*');
    expect(consoleErrors).toEqual([]);
  });
});
