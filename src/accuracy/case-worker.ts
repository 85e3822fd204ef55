// A thread that scores cases (read both label maps, scoreCase) for the `accuracy` command, so a
// folder is scored on every core: one case at a time per thread. The thread's working arrays (the
// two label volumes among them) are kept from case to case until the pool ends the thread.
import { parentPort } from 'node:worker_threads';
import { scoreOneCase, type CaseJob } from './case.js';
import { Scratch } from './scratch.js';

if (!parentPort) throw new Error('accuracy/case-worker.js runs as a worker thread only');
const port = parentPort;
const scratch = new Scratch();
port.on('message', (job: CaseJob | null) => {
  // null: no more cases. Closing the port lets the thread's loop end on its own (thread-end.ts says why).
  if (job === null) return port.close();
  // A rejection ends the worker with its error, which the pool reports for the case (accuracy/pool.ts).
  void scoreOneCase(job, scratch).then((result) => port.postMessage(result));
});
