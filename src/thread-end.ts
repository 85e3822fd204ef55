// Ending a worker thread so that Node 20 does not abort the process. worker.terminate() stops a
// thread wherever it is; when a TurboFan job was still compiling for that thread's isolate, Node 20
// could abort the whole process ("NodePlatform::ForIsolate … Assertion failed": the job asked for a
// task runner the isolate no longer had). Seen once, in the accuracy command's test, right after the
// last case was scored. A thread told to end closes its port, so its loop ends on its own, and Node
// drains the isolate's background work before it goes. terminate() is kept for a thread that does not
// end in time.
import type { Worker } from 'node:worker_threads';

/** How long a thread told to end may take before it is terminated (it ends within ms once idle). */
export const END_WAIT_MS = 10_000;

/**
 * Posts `endMessage` (on which the thread closes its port), waits for the thread to exit, and
 * terminates it after `waitMs`. Resolves with its exit code: 1 when it had to be terminated, -1 when
 * it had ended before.
 */
export async function endThread(w: Worker, endMessage: unknown, waitMs = END_WAIT_MS): Promise<number> {
  if (w.threadId < 0) return -1;
  const ended = new Promise<number>((resolve) => w.once('exit', resolve));
  w.postMessage(endMessage);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waitMs)));
  try {
    const code = await Promise.race([ended, late]);
    return code === 'late' ? await w.terminate() : code;
  } finally {
    clearTimeout(timer);
  }
}
