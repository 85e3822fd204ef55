// Scheduling priority of the agent's threads: the sampler above the node's work, the HTTP and heavy-read threads below it.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value of the HTTP thread: a read flood yields to the sampler (and to the measured work). */
export const HTTP_THREAD_NICE = 10;
/**
 * Nice value of the heavy-read thread (ranking, exports: seconds of batch work at season size): the
 * lowest, so that it yields to the HTTP thread's /healthz and /metrics as well as to the sampler.
 */
export const HEAVY_READ_NICE = 19;
/**
 * Nice value of the sampler (main) thread where the agent may raise it (root or CAP_SYS_NICE): its
 * ticks then win a busy CPU over the HTTP thread and over other work; it costs the node ~1.4 % of a core.
 */
export const SAMPLER_NICE = -10;

/** Sets the CALLING thread's nice value (Linux: setpriority on tid 0 is the thread). Best effort. */
export function setThisThreadNice(nice: number): boolean {
  try {
    setPriority(0, nice);
    return true;
  } catch {
    return false;
  }
}

/**
 * Linux schedules threads, and setpriority() applies to one thread id: /proc/thread-self names this
 * thread's id (task/<tid>). Best effort: without it the thread runs at the process's priority.
 */
export function lowerThisThreadPriority(nice = HTTP_THREAD_NICE): number | null {
  try {
    const tid = Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, nice);
    return tid;
  } catch {
    return null;
  }
}
