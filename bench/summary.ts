// Cost of the pure summary over a one-hour trace at 10 Hz (36 000 samples), with node samples for the
// official block: what closing a run (and recovering one after a crash) costs on top of loading it;
// and how long the daemon's sampler thread is held when the summary thread does that work instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inlineSummariser, threadSummariser } from '../src/agent/summary-thread.js';
import { summarizeRun } from '../src/core/summary.js';
import { FLARE22_PENALTIES, type NodeSample, type Run, type RunSample } from '../src/core/types.js';
import { openStore } from '../src/store/index.js';

export function benchSummary(n = 36_000): Record<string, number> {
  const samples: RunSample[] = [];
  const nodeSamples: NodeSample[] = [];
  for (let i = 0; i < n; i++) {
    const monoNs = 1e9 + i * 1e8;
    samples.push({ monoNs, wallMs: 1.7e12 + i * 100, cpuSeconds: i * 0.09, ramMiB: 500 + (i % 100), gpuMiB: 1500 + (i % 2000), gpuDeviceMiB: 1800 + (i % 2000) });
    nodeSamples.push({
      monoNs, wallMs: 1.7e12 + i * 100, memUsedMiB: 4000 + (i % 50), memTotalMiB: 32000, gpus: [],
      cpu: { userSeconds: i * 0.1, niceSeconds: 0, systemSeconds: i * 0.02, idleSeconds: i * 0.08, iowaitSeconds: 0, irqSeconds: 0, softirqSeconds: 0, stealSeconds: 0 },
    });
  }
  const times: number[] = [];
  for (let k = 0; k < 15; k++) {
    const t0 = process.hrtime.bigint();
    summarizeRun({
      startedMonoNs: 1e9, endedMonoNs: 1e9 + n * 1e8, samples, nodeSamples, nCpu: 12, intervalMs: 100, timeLimitSeconds: null,
      gpuToleranceMiB: 2048, penalties: FLARE22_PENALTIES, status: 'completed', terminationReason: 'exited', exitCode: 0,
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { summarySamples: n, summaryMsMedian: times[Math.floor(times.length / 2)], summaryMsMin: times[0] };
}

/** Median time the caller's thread is held per summarise() call: on the calling thread vs the worker. */
export async function benchSummaryHeld(n = 36_000): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'flare-bench-summary-'));
  const db = join(dir, 'bench.db');
  const store = openStore(db);
  const samples: RunSample[] = [];
  for (let i = 0; i < n; i++) samples.push({ monoNs: 1e9 + i * 1e8, wallMs: 1.7e12 + i * 100, cpuSeconds: i * 0.09, ramMiB: 500, gpuMiB: 1500 + (i % 2000), gpuDeviceMiB: 1800 });
  const run: Run = {
    id: 'r', kind: 'container', team: 't', case: 'c', node: 'n', status: 'running',
    startedWallMs: 1.7e12, startedMonoNs: 1e9, endedWallMs: null, endedMonoNs: null, timeLimitSeconds: null, nCpu: 12, intervalMs: 100,
    previousRunId: null, summary: null, settings: { gpuToleranceMiB: 2048, penalties: FLARE22_PENALTIES },
  };
  const job = { run, samples, nodeSpan: { fromWallMs: 1.7e12, toWallMs: 1.7e12 + n * 100 }, verdict: { status: 'completed' as const, terminationReason: 'exited' as const, exitCode: 0, endedMonoNs: 1e9 + n * 1e8, flags: [] } };
  const median = async (s: ReturnType<typeof inlineSummariser>): Promise<number> => {
    const held: number[] = [];
    for (let k = 0; k < 9; k++) {
      const t0 = process.hrtime.bigint();
      const p = s.summarise(job);
      held.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await p;
    }
    held.sort((a, b) => a - b);
    return held[4];
  };
  const worker = threadSummariser(db, inlineSummariser(store));
  try {
    return { summarySamples: n, heldMsInline: await median(inlineSummariser(store)), heldMsWorker: await median(worker) };
  } finally {
    await worker.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
