// How a worker thread is ended (thread-end.ts): told to end, a thread closes its port and
// its loop ends on its own (exit code 0), so Node drains the isolate's background work first; only a
// thread that does not end in time is terminated (exit code 1).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { endThread } from '../src/thread-end.js';

/** A thread that answers like accuracy/case-worker.ts: null closes its port. */
const POLITE = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => (m === null ? parentPort.close() : parentPort.postMessage(m)));`;
/** A thread that never ends on its own (a timer keeps its loop alive). */
const STUCK = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', () => {}); setInterval(() => {}, 1000);`;

const started = (w: Worker): Promise<void> => new Promise((resolve) => w.once('online', () => resolve()));

describe('endThread', () => {
  it('a thread told to end ends on its own, not terminated', async () => {
    const w = new Worker(POLITE, { eval: true });
    await started(w);
    expect(await endThread(w, null, 5000)).toBe(0);
    expect(await endThread(w, null, 5000)).toBe(-1); // ended already: nothing to do
  });

  it('a thread that does not end in time is terminated', async () => {
    const w = new Worker(STUCK, { eval: true });
    await started(w);
    const t0 = Date.now();
    expect(await endThread(w, null, 200)).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });
});
