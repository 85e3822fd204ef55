// Entry of the reader worker thread (see reader-side.ts): the agent's HTTP server, off the sampler's
// event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { runReaderSide, type ReaderConfig } from './reader-side.js';

if (!parentPort) throw new Error('http/worker.js runs as a worker thread only');
await runReaderSide(parentPort, workerData as ReaderConfig);
