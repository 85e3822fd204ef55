// Entry of the retention worker thread (see retention-side.ts): one pass, then the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { runRetentionPass, type RetentionRequest } from './retention-side.js';

if (!parentPort) throw new Error('agent/retention-worker.js runs as a worker thread only');
const port = parentPort;
// The thread's whole job: it reports progress and the end by message, and a rejection ends the thread with its error.
void runRetentionPass(workerData as RetentionRequest, (m) => port.postMessage(m));
