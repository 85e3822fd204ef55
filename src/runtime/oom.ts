// Naming an OOM kill at a container's end, for the generic watcher. The runtime's record may miss it:
// Docker has been seen (cgroup v1, Docker 20.10, under load) to send `die` 137 before its `oom` event,
// or much later, and to leave State.OOMKilled unset. So an exit by SIGKILL nobody has named waits a
// little for the event, the kernel's own count is asked (src/cgroup/oom-count.ts), and the runtime's record
// is asked again a few seconds on (corrections.ts; Docker's event log).
import type { ContainerEnd } from './adapter.js';
import type { TrackedRun } from './tracked.js';

/** How long an exit by SIGKILL (137) that nobody has named waits for the runtime's OOM event. */
export const OOM_EVENT_GRACE_MS = 500;
/** An exit 137 still unnamed is asked of the runtime's record again this long after. */
export const OOM_RECHECK_MS = 5000;

/** Reads the kernel's count at the container's end; remembers whether a read at the end succeeded (the count is final). */
export function readOomCountAtEnd(t: TrackedRun): void {
  if (t.oomCount && t.oomCount.read() !== null) t.oomCountFinal = true;
}

/**
 * An exit 137 left unnamed whose kernel count could not be read at the end (the runtime removed the
 * cgroup first: the same race as the last CPU read, docs/measurement.md): the run says so, as no source
 * could name or rule out an OOM kill.
 */
export const oomCountUnreadAtEnd = (t: TrackedRun): boolean => t.oomCount !== null && !t.oomCountFinal;

/** The kernel counted an OOM kill in the container's memory cgroup (made with this life, so from its start). */
export const kernelOom = (t: TrackedRun): boolean => (t.oomCount?.kills() ?? 0) > 0;

/** An exit by SIGKILL that no one has named yet (not the agent's kill, not an OOM known so far). */
export const needsOomGrace = (t: TrackedRun, end: ContainerEnd): boolean => end.exitCode === 137 && !end.oomKilled && !t.sawOom && !t.killedByAgent && !kernelOom(t);

/** Waits (at most OOM_EVENT_GRACE_MS) for an OOM event of a container that died by SIGKILL. */
export async function oomEventGrace(t: TrackedRun): Promise<void> {
  for (const deadline = Date.now() + OOM_EVENT_GRACE_MS; !t.sawOom && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
}
