// Entry of the HTTP thread (see http-thread.ts): the agent's HTTP server, off the sampler's
// event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { runHttpThread, type HttpThreadConfig } from './http-thread.js';

if (!parentPort) throw new Error('http/http-worker.js runs as a worker thread only');
await runHttpThread(parentPort, workerData as HttpThreadConfig);
