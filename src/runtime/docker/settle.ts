// Settles a container run an earlier agent process left 'running' from Docker's own record of the
// container (inspect): if the same life of the container (same StartedAt) has ended, its exit code,
// FinishedAt and OOMKilled give the verdict the agent would have written at the `die` event.
import type Docker from 'dockerode';
import { settledFlag, within, type Settlement, type Settler } from '../../agent/recover.js';
import type { Run } from '../../core/types.js';
import { endVerdict } from '../end.js';
import type { InspectFacts } from './identity.js';
import { oomInEventLog } from './events.js';
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
    flags: [settledFlag('docker')],
  };
}

export function dockerSettler(docker: Docker): Settler {
  return async (run) => {
    if (run.kind !== 'container' || !run.containerId) return null;
    try {
      const info = (await within(INSPECT_TIMEOUT_MS, 'docker inspect', docker.getContainer(run.containerId).inspect())) as unknown as InspectFacts;
      const settled = settleFromInspect(run, info);
      // Died by SIGKILL with OOMKilled unset (Docker on cgroup v1, now and then): its event log may name the OOM.
      if (settled?.status === 'failed' && settled.exitCode === 137 && (await oomInEventLog(docker, run.containerId, parseDockerTimeNs(info.State.StartedAt), parseDockerTimeNs(info.State.FinishedAt)))) {
        return { ...settled, status: 'oom', terminationReason: 'oom', flags: [...settled.flags, 'oom-named-by:runtime-event-log'] };
      }
      return settled;
    } catch {
      return null; // 404 (Docker no longer knows it) or unreachable: interrupted
    }
  };
}
