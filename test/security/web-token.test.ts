// Security §4: the web page works behind a token, in real headless Chromium against the built CLI
// agent started with --token-file. It asks once, keeps the token for the tab (sessionStorage), sends
// it on every call (the runs list, the run detail and its charts render; a CSV link downloads through
// it), and a wrong token brings the prompt back, saying it was refused.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { requireServices, tempDir } from '../helpers.js';
import { storeGpuRun } from '../plot/fixture.js';
import { startAgentChild, type AgentChild } from '../web/agent-child.js';
import { hasChromium, launch } from '../web/browser.js';

const TOKEN = 'web-page-token-0123456789abcdef';
const available = hasChromium();
if (!available && requireServices()) throw new Error('chromium is required (FLARE_TEST_REQUIRE_SERVICES) but /usr/bin/chromium is missing');

describe.skipIf(!available)('web page behind a token (headless Chromium, built CLI)', () => {
  const dir = tempDir('flare-sec-web-');
  let agent: AgentChild;
  let base: string;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  const pageErrors: string[] = [];
  const unauthorised: string[] = [];
  const withoutToken: string[] = [];

  beforeAll(async () => {
    const db = join(dir, 'agent.db');
    const seed = openStore(db);
    storeGpuRun(seed, { id: 'gpu-run-1', team: 'alpha', case: 'FLARE22_Tr_0001', timeLimitSeconds: 12 });
    seed.close();
    writeFileSync(join(dir, 'token'), TOKEN);
    agent = await startAgentChild(['--db', db, '--gpu-source', 'none', '--token-file', join(dir, 'token')]);
    base = `http://127.0.0.1:${agent.port}/`;
    browser = await launch();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('response', (r) => {
      if (r.status() === 401) unauthorised.push(r.url());
    });
    page.on('request', (r) => {
      if (r.url().includes('/api/') && !r.headers().authorization) withoutToken.push(r.url());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function enterToken(token: string): Promise<void> {
    await page.fill('#token-input', token);
    await page.click('#token-prompt button[type=submit]');
  }

  it('asks for the token, says plainly when it is wrong, and asks again', async () => {
    await page.goto(base);
    await page.waitForSelector('#token-prompt');
    expect(await page.textContent('#token-message')).toMatch(/requires an access token/);
    await enterToken('not-the-token-0123456789');
    await page.waitForFunction(() => /refused/.test(document.getElementById('token-message')?.textContent ?? ''));
    expect(await page.locator('#token-prompt').count()).toBe(1);
    expect(await page.evaluate(() => sessionStorage.getItem('flare-agent-token'))).toBeNull();
    await enterToken(TOKEN);
    await page.waitForSelector('#sources');
    expect(await page.locator('#token-prompt').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('flare-agent-token'))).toBe(TOKEN);
  });

  it('renders the runs list, the run detail and its charts, sending the token on every call', async () => {
    const before = unauthorised.length;
    const bare = withoutToken.length;
    await page.goto(`${base}#/runs`);
    await page.reload(); // a fresh load keeps the tab's token: no prompt
    await page.waitForSelector('#runs-table');
    expect(await page.locator('#token-prompt').count()).toBe(0);
    expect(await page.locator('#runs-table tr', { hasText: 'FLARE22_Tr_0001' }).count()).toBe(1);
    await page.locator('#runs-table tr', { hasText: 'FLARE22_Tr_0001' }).locator('a').first().click();
    await page.waitForSelector('#chart-gpu canvas');
    await page.waitForSelector('#figures');
    const drawn = await page.$eval('#chart-gpu', (root) => {
      let n = 0;
      for (const c of root.querySelectorAll('canvas')) {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && Math.abs(d[i] - 0x1f) < 30 && Math.abs(d[i + 1] - 0x77) < 30 && Math.abs(d[i + 2] - 0xb4) < 30) n++;
      }
      return n;
    });
    expect(drawn).toBeGreaterThan(50);
    expect(await page.textContent('#figures')).toContain('11,264');
    // A download link cannot carry a header: the page fetches it with the token and saves the blob.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("samples CSV")')]);
    const saved = await download.path();
    expect(readFileSync(saved!, 'utf8')).toMatch(/^t_s,wall_ms,cpu_seconds/);
    expect(unauthorised.length).toBe(before);
    expect(withoutToken.slice(bare)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('a token that stops matching brings the prompt back', async () => {
    await page.evaluate(() => sessionStorage.setItem('flare-agent-token', 'stale-token-0123456789abcdef'));
    await page.goto(`${base}#/runs`);
    await page.reload();
    await page.waitForSelector('#token-prompt');
    expect(await page.textContent('#token-message')).toMatch(/refused/);
    await enterToken(TOKEN);
    await page.waitForSelector('#runs-table');
    expect(pageErrors).toEqual([]);
  });
});
