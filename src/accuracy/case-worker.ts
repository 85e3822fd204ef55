// A thread that scores cases (read both label maps, scoreCase) for the `accuracy` command, so a
// folder is scored on every core: one case at a time per thread, its volumes gone when it is done.
import { parentPort } from 'node:worker_threads';
import { scoreOneCase, type CaseJob } from './case.js';

if (!parentPort) throw new Error('accuracy/case-worker.js runs as a worker thread only');
const port = parentPort;
port.on('message', (job: CaseJob) => {
  void scoreOneCase(job).then((result) => port.postMessage(result));
});
