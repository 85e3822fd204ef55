// How the accuracy pool ends its threads: told there are no more cases, a thread closes its port and
// its loop ends on its own (exit code 0), so Node drains the isolate's background work first; only a
// thread that does not end in time is terminated (exit code 1).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { endWorker } from '../../src/accuracy/pool.js';

/** A thread that answers like accuracy/case-worker.ts: null closes its port. */
const POLITE = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => (m === null ? parentPort.close() : parentPort.postMessage(m)));`;
/** A thread that never ends on its own (a timer keeps its loop alive). */
const STUCK = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', () => {}); setInterval(() => {}, 1000);`;

const started = (w: Worker): Promise<void> => new Promise((resolve) => w.once('online', () => resolve()));

describe('endWorker', () => {
  it('a thread told to end ends on its own, not terminated', async () => {
    const w = new Worker(POLITE, { eval: true });
    await started(w);
    expect(await endWorker(w, 5000)).toBe(0);
    expect(await endWorker(w, 5000)).toBe(-1); // ended already: nothing to do
  });

  it('a thread that does not end in time is terminated', async () => {
    const w = new Worker(STUCK, { eval: true });
    await started(w);
    const t0 = Date.now();
    expect(await endWorker(w, 200)).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });
});
