// Summaries away from the sampler's loop: the worker thread (the built dist/, as the daemon runs it)
// and the in-process channel (TypeScript sources) give exactly the summary the calling thread
// computes, the caller keeps its loop, and a job the thread cannot do still gets its summary.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as SummariserModule from '../../src/agent/summary-thread.js';
import { inlineSummariser, threadSummariser } from '../../src/agent/summary-thread.js';
import type { Verdict } from '../../src/agent/verdict.js';
import { FLARE22_PENALTIES, type NodeSample, type Run, type RunSample } from '../../src/core/types.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { requireServices, tempDir } from '../helpers.js';

const DIST = join(process.cwd(), 'dist/src/agent/summary-thread.js');
const N = 36_000; // one hour at 10 Hz
const T0_WALL_MS = 1.7e12;

function run(): Run {
  return {
    id: 'r1', kind: 'container', team: 't', case: 'c', node: 'n',
    status: 'running', startedWallMs: T0_WALL_MS, startedMonoNs: 1e9, endedWallMs: null, endedMonoNs: null,
    timeLimitSeconds: 3000, nCpu: 2, intervalMs: 100, previousRunId: null, summary: null,
    settings: { gpuToleranceMiB: 2048, penalties: FLARE22_PENALTIES },
  };
}

function samples(): RunSample[] {
  const out: RunSample[] = [];
  for (let i = 0; i < N; i++) {
    // Unknown figures (null) on some ticks: they must cross the thread as unknown, never as 0.
    out.push({ monoNs: 1e9 + i * 1e8, wallMs: T0_WALL_MS + i * 100, cpuSeconds: i % 97 === 5 ? null : i * 0.09, ramMiB: 500 + (i % 100), gpuMiB: i % 50 === 3 ? null : 1500 + (i % 2000), gpuDeviceMiB: 1800 + (i % 2000) });
  }
  return out;
}

const VERDICT: Verdict = { status: 'completed', terminationReason: 'exited', exitCode: 0, endedMonoNs: 1e9 + N * 1e8, finalCpu: { monoNs: 1e9 + N * 1e8, cpuSeconds: N * 0.09 }, flags: ['final-counter-read'] };

let db: string;
let store: Store;
beforeAll(() => {
  db = join(tempDir(), 'summaries.db');
  store = openStore(db);
  for (let i = 0; i < N; i += 10) {
    const node: NodeSample = {
      monoNs: 1e9 + i * 1e8, wallMs: T0_WALL_MS + i * 100, memUsedMiB: 4000, memTotalMiB: 32000, gpus: [],
      cpu: { userSeconds: i * 0.1, niceSeconds: 0, systemSeconds: i * 0.02, idleSeconds: i * 0.08, iowaitSeconds: 0, irqSeconds: 0, softirqSeconds: 0, stealSeconds: 0 },
    };
    store.appendNodeSample(node);
  }
  store.flush();
});
afterAll(() => store.close());

const job = (s: RunSample[]) => ({ run: run(), samples: s, nodeSpan: { fromWallMs: T0_WALL_MS, toWallMs: T0_WALL_MS + N * 100 }, verdict: VERDICT });

/** The promise and how long the caller's thread was held to get it. */
function timed<T>(f: () => Promise<T>): { promise: Promise<T>; heldMs: number } {
  const t0 = process.hrtime.bigint();
  const promise = f();
  return { promise, heldMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

describe('summariser', () => {
  it('the in-process channel gives exactly the calling thread\'s summary, with unknowns kept unknown', async () => {
    const s = samples();
    const expected = await inlineSummariser(store).summarise(job(s));
    expect(expected.flareFormulas.aucCpuPctS).not.toBeNull(); // the node samples of the span were read
    const channel = threadSummariser(db, inlineSummariser(store));
    try {
      expect(channel.where).toBe('in-process channel');
      expect(await channel.summarise(job(s))).toEqual(expected);
    } finally {
      await channel.close();
    }
  });

  describe.skipIf(!existsSync(DIST) && !requireServices())('in the worker thread (dist/, as the daemon runs it)', () => {
    let mod: typeof SummariserModule;
    beforeAll(async () => {
      if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build`);
      mod = (await import(DIST)) as typeof SummariserModule;
    });

    it('the same summary, while the caller is held for a small fraction of the work', async () => {
      const s = samples();
      const inline = timed(() => inlineSummariser(store).summarise(job(s)));
      const expected = await inline.promise;
      const worker = mod.threadSummariser(db, mod.inlineSummariser(store));
      try {
        expect(worker.where).toBe('summary worker thread');
        await worker.summarise(job(s)); // the thread's first job also loads its code and opens the DB
        const off = timed(() => worker.summarise(job(s)));
        expect(await off.promise).toEqual(expected);
        console.log('36 000-sample summary, caller held:', { inlineMs: inline.heldMs, workerMs: off.heldMs });
        // Packing the samples for the thread is linear but ~100× cheaper than the summary itself.
        expect(off.heldMs).toBeLessThan(inline.heldMs / 5);
      } finally {
        await worker.close();
      }
    });

    it('a job the thread cannot do (its database unreadable) is summarised by the fallback', async () => {
      const s = samples().slice(0, 600);
      const expected = await inlineSummariser(store).summarise(job(s));
      const worker = mod.threadSummariser(join(tempDir(), 'missing.db'), mod.inlineSummariser(store));
      try {
        expect(await worker.summarise(job(s))).toEqual(expected);
        // A partial summary needs no node samples, so the thread does it itself.
        const partial = { ...job(s), nodeSpan: null, verdict: { ...VERDICT, status: 'running' as const, endedMonoNs: null } };
        expect(await worker.summarise(partial)).toEqual(await inlineSummariser(store).summarise(partial));
      } finally {
        await worker.close();
      }
    });
  });
});
