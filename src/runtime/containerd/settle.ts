// Settles a container run an earlier agent process left 'running' from containerd's own record of the
// container's init task (Tasks.Get): a task that has stopped since the run started gives its exit
// status and exit time, as the agent would have written them at the /tasks/exit event.
import { SETTLED_FLAG, within, type Settlement, type Settler } from '../../agent/recover.js';
import type { Run } from '../../core/types.js';
import { endVerdict } from '../end.js';
import type { ContainerdClient, CtrTask } from './client.js';
import { TASK_RUNNING } from './proto.js';

/** How long recovery waits for containerd before treating it as unreachable. */
const GET_TIMEOUT_MS = 5000;

/**
 * containerd keeps no start time for a task, so "the same life" is judged by time alone: a task that
 * exited after the run started. A container restarted since, whose newer task also ended, would read
 * as this run's end; kubelet makes a new container for a restart, so under Kubernetes it does not arise.
 */
export function settleFromTask(run: Run, task: CtrTask): Settlement | null {
  if (task.status === TASK_RUNNING || task.exitedAtNs === null) return null;
  const startedNs = BigInt(run.startedWallMs) * 1_000_000n;
  if (task.exitedAtNs < startedNs) return null;
  const spanNs = Number(task.exitedAtNs - startedNs);
  const verdict = endVerdict({ exitCode: task.exitStatus, oomKilled: false, sawOom: false, killedByAgent: false, killedExternally: false });
  return {
    ...verdict,
    endedMonoNs: run.startedMonoNs + spanNs,
    endedWallMs: Number(task.exitedAtNs / 1_000_000n),
    wallSecondsOverride: spanNs / 1e9,
    flags: [SETTLED_FLAG],
  };
}

export function containerdSettler(client: Pick<ContainerdClient, 'getTask'>): Settler {
  return async (run) => {
    if (run.kind !== 'container' || !run.containerId) return null;
    try {
      const task = await within(GET_TIMEOUT_MS, 'containerd Tasks.Get', client.getTask(run.containerId));
      return task ? settleFromTask(run, task) : null;
    } catch {
      return null; // unreachable: interrupted
    }
  };
}
