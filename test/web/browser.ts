// Real headless Chromium (Debian's /usr/bin/chromium through playwright-core) with a fresh profile.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startAgentChild } from './agent-child.js';

export const CHROMIUM = process.env.FLARE_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = (): boolean => existsSync(CHROMIUM);

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'flare-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1400, height: 1000 } });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A built agent on a database, a fresh Chromium and one page on it that collects console and page errors. */
export interface AgentPage {
  base: string;
  page: Page;
  /** Console errors and uncaught page errors, in order: a test expects none. */
  consoleErrors: string[];
  close(): Promise<void>;
}

/** `flare-agent start --listen 127.0.0.1:0 …agentArgs`, then Chromium on its page. */
export async function openAgentPage(agentArgs: string[]): Promise<AgentPage> {
  const agent = await startAgentChild(agentArgs);
  const browser = await launch();
  const page = await browser.context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  return {
    base: `http://127.0.0.1:${agent.port}/`,
    page,
    consoleErrors,
    async close() {
      await browser.close();
      await agent.stop();
    },
  };
}
