// Settles a container run an earlier agent process left 'running' from Docker's own record of the
// container (inspect): if the same life of the container (same StartedAt) has ended, its exit code,
// FinishedAt and OOMKilled give the verdict the agent would have written at the `die` event.
// A container Docker no longer knows (run with `--rm`, as the FLARE harness runs every case, and
// removed at its end) is settled from Docker's event log instead: its `die` event holds the exit
// code and the time of the end (settleFromEventLog).
import type { DockerApi } from './engine-client.js';
import { SETTLED_FLAG, within, type Settlement, type Settler } from '../../agent/recover.js';
import type { RunFlag } from '../../core/run-facts.js';
import type { Run } from '../../core/types.js';
import { endVerdict } from '../end.js';
import type { InspectFacts } from './identity.js';
import { oomInEventLog, pastEvents } from './events.js';
import type { LifecycleEvent } from '../adapter.js';
import { parseDockerTimeNs } from './time.js';

/** How long recovery waits for one inspect before treating Docker as unreachable. */
const INSPECT_TIMEOUT_MS = 5000;

export function settleFromInspect(run: Run, info: InspectFacts): Settlement | null {
  const startedAtNs = parseDockerTimeNs(info.State.StartedAt);
  const finishedAtNs = parseDockerTimeNs(info.State.FinishedAt);
  // Another life (restarted since), still running, or no end time: not this run's end.
  if (startedAtNs === null || Number(startedAtNs / 1_000_000n) !== run.startedWallMs) return null;
  if (info.State.Running || finishedAtNs === null || finishedAtNs < startedAtNs) return null;
  const spanNs = finishedAtNs - startedAtNs;
  const verdict = endVerdict({ exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled, sawOom: false, killedByAgent: false, killedExternally: false });
  return {
    ...verdict,
    endedMonoNs: run.startedMonoNs + Number(spanNs),
    endedWallMs: Number(finishedAtNs / 1_000_000n),
    wallSecondsOverride: Number(spanNs) / 1e9,
    flags: [SETTLED_FLAG],
    ...(verdict.status === 'oom' ? { facts: { oomNamedBy: 'runtime-record' as const } } : {}),
  };
}

/** The flag of a verdict taken from Docker's event log (the container was removed: no inspect). */
export const EVENT_LOG_FLAG: RunFlag = 'end-from-docker-event-log';

/**
 * A run's end from its container's past events (pastEvents, since the run's start): the first `die`
 * gives the exit code and the end time, an `oom` or a `kill` logged before it (or the `oom` Docker
 * logs just after it) names the reason as at a live `die`. The `die` event's time is Docker's own,
 * taken once the engine has handled the exit: later than the FinishedAt an inspect would give (63-70
 * ms on the test VM, Docker 28, vfs storage), so such a wall time is a little long, and the flag says
 * where it came from. null: no `die` (the log is in dockerd's memory: a dockerd restart empties it).
 */
export function settleFromEventLog(run: Run, events: readonly LifecycleEvent[]): Settlement | null {
  const die = events.find((e): e is LifecycleEvent & { kind: 'exit' } => e.kind === 'exit' && e.timeNs !== null && Number(e.timeNs / 1_000_000n) >= run.startedWallMs);
  if (!die || die.timeNs === null) return null;
  const dieAt = events.indexOf(die);
  const before = events.slice(0, dieAt);
  const sawOom = events.slice(0, dieAt + 2).some((e) => e.kind === 'oom');
  const killedExternally = before.some((e) => e.kind === 'kill');
  const verdict = endVerdict({ exitCode: die.exitCode, oomKilled: false, sawOom, killedByAgent: false, killedExternally });
  const spanNs = Number(die.timeNs) - run.startedWallMs * 1e6;
  return {
    ...verdict,
    endedMonoNs: run.startedMonoNs + spanNs,
    endedWallMs: Number(die.timeNs / 1_000_000n),
    wallSecondsOverride: spanNs / 1e9,
    flags: [SETTLED_FLAG, EVENT_LOG_FLAG],
    ...(sawOom ? { facts: { oomNamedBy: 'runtime-event-log' as const } } : {}),
  };
}

const isNotFound = (err: unknown): boolean => (err as { statusCode?: number } | null)?.statusCode === 404;

export function dockerSettler(docker: DockerApi): Settler {
  return async (run) => {
    if (run.kind !== 'container' || !run.containerId) return null;
    try {
      let info: InspectFacts;
      try {
        info = await within(INSPECT_TIMEOUT_MS, 'docker inspect', docker.getContainer(run.containerId).inspect());
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // Removed (`--rm`): the engine's event log still holds its end while dockerd has not restarted.
        const sinceNs = BigInt(run.startedWallMs) * 1_000_000n;
        return settleFromEventLog(run, await pastEvents(docker, run.containerId, sinceNs, BigInt(Date.now()) * 1_000_000n, ['die', 'oom', 'kill']));
      }
      const settled = settleFromInspect(run, info);
      // Died by SIGKILL with OOMKilled unset (Docker on cgroup v1, now and then): its event log may name the OOM.
      if (settled?.status === 'failed' && settled.exitCode === 137 && (await oomInEventLog(docker, run.containerId, parseDockerTimeNs(info.State.StartedAt), parseDockerTimeNs(info.State.FinishedAt)))) {
        return { ...settled, status: 'oom', terminationReason: 'oom', facts: { oomNamedBy: 'runtime-event-log' } };
      }
      return settled;
    } catch {
      return null; // unreachable, or removed with no `die` left in the log: interrupted
    }
  };
}
