// The web page in real headless Chromium against a real agent (`flare-agent start`, real SQLite):
// no console errors, a run started during the test (by `flare-agent profile`, another process
// writing the same database) appears, its detail page draws non-blank charts, and a team name that
// is HTML is shown as text with no dialog ever fired. Screenshots go to test-artifacts/web/.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { requireServices, runCli, tempDir } from '../helpers.js';
import { storeGpuRun } from '../plot/fixture.js';
import { hasChromium, openAgentPage, type AgentPage } from './browser.js';

const XSS = '<img src=x onerror=alert(1)>';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'web');
const available = hasChromium();
if (!available && requireServices()) throw new Error('chromium is required (FLARE_TEST_REQUIRE_SERVICES) but /usr/bin/chromium is missing');

/** Pixels of the canvases inside `selector` whose colour is within `tol` of rgb and alpha within [aMin, aMax]. */
async function colouredPixels(page: Page, selector: string, rgb: [number, number, number], tol = 40, alpha: [number, number] = [200, 255]): Promise<number> {
  return page.$eval(
    selector,
    (root, [r, g, b, t, aMin, aMax]) => {
      let n = 0;
      for (const c of root.querySelectorAll('canvas')) {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] >= aMin && data[i + 3] <= aMax && Math.abs(data[i] - r) < t && Math.abs(data[i + 1] - g) < t && Math.abs(data[i + 2] - b) < t) n++;
        }
      }
      return n;
    },
    [...rgb, tol, ...alpha] as const,
  );
}

describe.skipIf(!available)('web page in headless Chromium', () => {
  const dir = tempDir('flare-web-');
  const db = join(dir, 'agent.db');
  let session: AgentPage;
  let base: string;
  let page: Page;
  let consoleErrors: string[];
  const dialogs: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // A finished run with GPU data above the tolerance (no GPU on the test machine).
    const seed = openStore(db);
    storeGpuRun(seed, { id: 'gpu-run-1', team: 'alpha', case: 'FLARE22_Tr_0001', timeLimitSeconds: 12 });
    seed.close();
    session = await openAgentPage(['--db', db, '--gpu-source', 'none']);
    ({ base, page, consoleErrors } = session);
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('node view loads, polls the live state and shows agent health', async () => {
    await page.goto(base);
    await page.waitForSelector('#sources');
    const cards = await page.locator('.card').allTextContents();
    expect(cards.join(' ')).toContain('GPUs in use');
    expect(cards.join(' ')).toMatch(/0 \/ 0/);
    const first = await page.textContent('#agent-state');
    await page.waitForFunction((t) => document.getElementById('agent-state')?.textContent !== t, first, { timeout: 5000 });
    await page.screenshot({ path: join(ARTIFACTS, 'node-view.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('a run started during the test appears; its detail page draws non-blank charts', async () => {
    const profile = runCli(['profile', '--db', db, '--gpu-source', 'none', '--team', 'live-team', '--case', 'live-case', '--', 'sh', '-c', 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; sleep 1']);
    await page.goto(`${base}#/runs`);
    const row = page.locator('#runs-table tr', { hasText: 'live-case' });
    for (let i = 0; i < 60 && (await row.count()) === 0; i++) {
      await page.waitForTimeout(250);
      await page.reload();
      await page.waitForSelector('#runs-table, .error');
    }
    expect(await row.count()).toBe(1);
    const done = await profile;
    expect(done.code).toBe(0);
    await page.reload();
    await page.waitForSelector('#runs-table');
    expect(await row.locator('.status-completed').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'runs-view.png'), fullPage: true });
    await row.locator('a').first().click();
    await page.waitForSelector('#chart-cpu canvas');
    await page.waitForSelector('#figures');
    // The CPU and RAM series strokes are drawn (green and purple pixels in their canvases).
    expect(await colouredPixels(page, '#chart-cpu', [0x2c, 0xa0, 0x2c])).toBeGreaterThan(50);
    expect(await colouredPixels(page, '#chart-ram', [0x94, 0x67, 0xbd])).toBeGreaterThan(50);
    await page.screenshot({ path: join(ARTIFACTS, 'run-detail-profile.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('GPU chart: series, tolerance line and the shaded area above it', async () => {
    await page.goto(`${base}#/run/gpu-run-1`);
    await page.waitForSelector('#chart-gpu canvas');
    expect(await colouredPixels(page, '#chart-gpu', [0x1f, 0x77, 0xb4], 30)).toBeGreaterThan(50);
    expect(await colouredPixels(page, '#chart-gpu', [0xff, 0x7f, 0x0e], 30)).toBeGreaterThan(50);
    // The shade: the series colour at 25 % opacity (the canvas is transparent; the page shows white under it).
    expect(await colouredPixels(page, '#chart-gpu', [0x1f, 0x77, 0xb4], 12, [50, 80])).toBeGreaterThan(2000);
    expect(await page.textContent('#figures')).toContain('11,264');
    await page.screenshot({ path: join(ARTIFACTS, 'run-detail-gpu.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('a team name that is HTML is shown as text and fires no dialog', async () => {
    const r = await runCli(['profile', '--db', db, '--gpu-source', 'none', '--team', XSS, '--case', 'xss-case', '--', 'true']);
    expect(r.code).toBe(0);
    await page.goto(`${base}#/runs?team=${encodeURIComponent(XSS)}`);
    await page.waitForSelector('#runs-table td.team');
    expect(await page.locator('#runs-table td.team').allTextContents()).toEqual([XSS]);
    expect(await page.locator('#runs-table img').count()).toBe(0);
    await page.locator('#runs-table tr', { hasText: 'xss-case' }).locator('a').first().click();
    await page.waitForSelector('#detail-team');
    expect(await page.textContent('#detail-team')).toBe(XSS);
    expect(await page.locator('main img').count()).toBe(0);
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(ARTIFACTS, 'xss-as-text.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('leaderboard: every team ranked with its bootstrap interval drawn, names as text', async () => {
    // By now the database holds runs of alpha, live-team and the HTML-named team (earlier tests).
    await page.goto(`${base}#/leaderboard?profile=flare23`);
    // The ranking is drawn first, then redrawn with the bootstrap's intervals.
    await page.waitForSelector('#leaderboard[data-bootstrap="done"] tbody tr');
    const teams = await page.locator('#leaderboard td.team').allTextContents();
    expect([...teams].sort()).toEqual(['alpha', 'live-team', XSS].sort());
    expect(await page.locator('#leaderboard img').count()).toBe(0);
    // One interval per team, drawn with a width (a bar, not only numbers), and a median mark inside the track.
    const boxes = await page.$$eval('#leaderboard .rank-interval', (els) => els.map((e) => e.getBoundingClientRect().width));
    expect(boxes).toHaveLength(3);
    expect(boxes.every((w) => w > 0)).toBe(true);
    expect(await page.locator('#leaderboard .rank-median').count()).toBe(3);
    const api = (await (await fetch(`${base}api/v1/ranking?profile=flare23&bootstrap=1000&seed=1`)).json()) as { teams: { team: string; rank: number }[]; bootstrap: { teams: { team: string; rankLow: number; rankHigh: number }[] } };
    // The page shows the API's places, in order.
    expect(await page.locator('#leaderboard tbody tr td:first-child').allTextContents()).toEqual(api.teams.map((t) => String(t.rank)));
    expect(api.bootstrap.teams.every((t) => t.rankLow <= t.rankHigh)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'leaderboard.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('plot downloads: the run\'s SVG comes from the same drawing code', async () => {
    const res = await fetch(`${base}api/v1/runs/gpu-run-1/plot.svg?panel=gpu`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('image/svg+xml');
    expect(await res.text()).toContain('exact AUC above tolerance: 11,264 MiB·s');
    expect((await fetch(`${base}api/v1/runs/gpu-run-1/plot.svg?panel=disk`)).status).toBe(400);
    expect((await fetch(`${base}api/v1/runs/nope/plot.svg`)).status).toBe(404);
    const live = (await (await fetch(`${base}api/v1/live`)).json()) as { runs: unknown[]; health: { node: string } };
    expect(Array.isArray(live.runs)).toBe(true);
    expect(live.health.node.length).toBeGreaterThan(0);
  });
});
