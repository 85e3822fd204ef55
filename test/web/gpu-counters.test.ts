// The GPU counters (issue 11) through a real agent (`flare-agent start` on the NVML stub, real SQLite)
// and the page in headless Chromium: /healthz says once that accounting is off and how to turn it on,
// /metrics has the per-GPU energy counter, and a run's page shows the accounting peak, the missed
// spike, the energy and the processes that shared its GPU.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withGpuReadings } from '../../src/core/gpu-run.js';
import { openStore } from '../../src/store/index.js';
import { buildStub, stubDevice, writeStubState } from '../gpu/stub/stub.js';
import { requireServices, tempDir } from '../helpers.js';
import { storeGpuRun } from '../plot/fixture.js';
import { hasChromium, openAgentPage, type AgentPage } from './browser.js';

const available = hasChromium();
if (!available && requireServices()) throw new Error('chromium is required (FLARE_TEST_REQUIRE_SERVICES) but /usr/bin/chromium is missing');

describe.skipIf(!available)('GPU counters on the agent and its page', () => {
  const dir = tempDir('flare-web-gpu-');
  const db = join(dir, 'agent.db');
  let session: AgentPage;
  let base: string;
  let page: Page;
  let consoleErrors: string[];

  beforeAll(async () => {
    const seed = openStore(db);
    const run = storeGpuRun(seed, { id: 'gpu-counters-1', team: 'alpha', case: 'FLARE22_Tr_0002', timeLimitSeconds: null });
    if (!run.summary) throw new Error('fixture without summary');
    const summary = withGpuReadings(run.summary, {
      accountingMode: 'on',
      processes: [{ pid: 4242, gpuIndex: 0, record: 'ok', peakMiB: 15000, gpuTimeSeconds: 9.5, gpuUtilPct: 60 }],
      unseenAccountedProcesses: 0,
      energy: { energyJ: 2345.6, method: 'counter', coveredSeconds: null },
      sharedDuringRun: true,
      sharedAtStart: { processes: 2, usedMiB: 1536 },
    });
    seed.finishRun(run.id, { status: summary.status, endedWallMs: run.endedWallMs ?? 0, endedMonoNs: run.endedMonoNs ?? 0, summary });
    seed.close();
    const state = join(dir, 'nvml.state');
    writeStubState(state, { devices: [stubDevice(0)], accountingMode: { 0: 0 }, energyMj: { 0: 987_654_321 } });
    process.env.FLARE_NVML_STUB_STATE = state; // the agent child inherits it
    session = await openAgentPage(['--db', db, '--gpu-source', 'nvml', '--nvml-lib', buildStub(dir, 'default')]);
    ({ base, page, consoleErrors } = session);
  });

  afterAll(async () => {
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/healthz says that accounting is off, and the organiser\'s one-time step', async () => {
    const health = (await (await fetch(`${base}healthz`)).json()) as { gpuAccounting: string | null; gpuSource: { active: string } };
    expect(health.gpuSource.active).toBe('nvml');
    expect(health.gpuAccounting).toContain('accounting is off on GPU 0');
    expect(health.gpuAccounting).toContain('nvidia-smi -am 1');
  });

  it('/metrics exports the energy counter per GPU, in joules', async () => {
    // The counter rides on the node sample: wait for the first tick.
    let line: string | undefined;
    for (let i = 0; i < 50 && !line; i++) {
      const text = await (await fetch(`${base}metrics`)).text();
      line = text.split('\n').find((l) => l.startsWith('flare_gpu_energy_joules_total{'));
      if (!line) await new Promise((r) => setTimeout(r, 100));
    }
    expect(line).toBe('flare_gpu_energy_joules_total{gpu="0",uuid="GPU-00000000-1111-2222-3333-444444444444"} 987654.321');
  });

  it('the run page shows the accounting peak, the missed spike, the energy and the sharing', async () => {
    await page.goto(`${base}#/run/gpu-counters-1`);
    await page.waitForSelector('#gpu-accounting-peak');
    expect(await page.textContent('#gpu-accounting-peak')).toContain('15,000 — spike missed by the sampler');
    expect(await page.textContent('#gpu-energy')).toContain('2,345.6');
    const body = await page.textContent('main');
    expect(body).toContain('other GPU processes at start');
    expect(body).toContain('2, 1,536 MiB');
    expect(body).toContain('gpu-shared-at-start');
    expect(body).toContain('shared-gpu');
    expect(consoleErrors).toEqual([]);
  });
});
