// Entry of the summary worker thread (see summary-side.ts): run summaries off the sampler's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { runSummarySide, type SummarySideConfig } from './summary-side.js';

if (!parentPort) throw new Error('agent/summary-worker.js runs as a worker thread only');
runSummarySide(parentPort, workerData as SummarySideConfig);
