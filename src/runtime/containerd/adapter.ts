// The containerd adapter (docs/containerd.md): the namespace's task events, its containers and tasks,
// Tasks.Kill, turned into the watcher's terms (runtime/adapter.ts). containerd keeps no start time for a
// task (only the start event has one), reports no signals as events (a kill shows in the exit status,
// 128 + n), and keeps a task's cgroup until the task is deleted, so the counters are read at the exit.
// Identity comes from the pod's sandbox labels (identity.ts); a sandbox itself is never a run.
import type { AgentContext } from '../../agent/context.js';
import type { ContainerEnd, ContainerFacts, GapOutcome, LifecycleEvent, RuntimeAdapter } from '../adapter.js';
import type { KillSignal } from '../kill.js';
import type { Backoff } from '../reconnect.js';
import { watchRuntime, type RuntimeWatcher } from '../watcher.js';
import { ContainerdClient, type CtrEvent, type CtrTask } from './client.js';
import { isSandbox, podIdentity, podName, sandboxOf } from './identity.js';
import { TASK_RUNNING } from './proto.js';
import { containerdSettler } from './settle.js';

const SIGNAL_NUMBER: Record<KillSignal, number> = { SIGTERM: 15, SIGKILL: 9 };

/** One containerd event → a lifecycle event; null for an exec'd process's exit (only the init process ends the run). */
export function lifecycleOf(e: CtrEvent): LifecycleEvent | null {
  switch (e.topic) {
    case '/tasks/start':
      return { kind: 'start', containerId: e.containerId, timeNs: e.timeNs, pid: e.pid };
    case '/tasks/exit':
      if (e.execId !== '' && e.execId !== e.containerId) return null;
      return { kind: 'exit', containerId: e.containerId, timeNs: e.timeNs, exitCode: e.exitStatus, exitedAtNs: e.exitedAtNs };
    case '/tasks/oom':
      return { kind: 'oom', containerId: e.containerId };
    case '/containers/delete':
      return { kind: 'remove', containerId: e.containerId, timeNs: e.timeNs };
  }
}

/** runc reports a process ended by signal n as exit status 128 + n. */
const bySignal = (status: number | null): boolean => status !== null && status > 128 && status <= 128 + 64;

function endOfTask(exitStatus: number | null, exitedAtNs: bigint | null): ContainerEnd {
  return { finishedAtNs: exitedAtNs, exitCode: exitStatus, oomKilled: false, bySignal: bySignal(exitStatus), flags: [] };
}

export class ContainerdAdapter implements RuntimeAdapter {
  readonly name = 'containerd' as const;
  readonly traits = { readAtExit: true, removalAfterEndFlag: false, killEvents: false };

  constructor(readonly client: ContainerdClient) {}

  async subscribe(onEvent: (e: LifecycleEvent) => void, onDown: (reason: string) => void): Promise<() => void> {
    return this.client.subscribe(
      (e) => {
        const l = lifecycleOf(e);
        if (l) onEvent(l);
      },
      (err) => onDown(err ? err.message : 'event stream ended'),
    );
  }

  async listRunning(): Promise<Array<{ id: string; pid: number }>> {
    return (await this.client.listTasks()).filter((t) => t.status === TASK_RUNNING).map((t) => ({ id: t.containerId, pid: t.pid }));
  }

  async inspect(id: string, hint: { start?: LifecycleEvent & { kind: 'start' }; pid?: number }): Promise<ContainerFacts | null> {
    const all = await this.client.listContainers();
    const c = all.find((x) => x.id === id);
    if (!c) return null;
    const sandbox = sandboxOf(c, all);
    // A pid from the start event or the task listing: the task ran then; otherwise ask for the task.
    const knownPid = hint.start?.pid ?? hint.pid;
    const task: CtrTask | null = knownPid === undefined && !isSandbox(c) ? await this.client.getTask(id) : null;
    const running = knownPid !== undefined || task?.status === TASK_RUNNING;
    return {
      id,
      running,
      pid: knownPid ?? task?.pid ?? 0,
      // containerd's API keeps no task start time: only the start event says when.
      startedAtNs: hint.start?.timeNs ?? null,
      selection: { labels: sandbox?.labels ?? {}, name: podName(c), image: c.image },
      neverRun: isSandbox(c),
      createdBeforeStartSeconds: null, // the official span model is Docker's (docs/scoring.md): not read from containerd
      flags: [],
      end: task && !running && task.exitedAtNs !== null ? endOfTask(task.exitStatus, task.exitedAtNs) : null,
      identify: async (env) => podIdentity(c, sandbox, env.node, env.timeLimitSeconds),
    };
  }

  async endOf(_id: string, exit: LifecycleEvent & { kind: 'exit' }): Promise<ContainerEnd> {
    return endOfTask(exit.exitCode, exit.exitedAtNs ?? exit.timeNs);
  }

  async afterGap(id: string): Promise<GapOutcome> {
    const task = await this.client.getTask(id);
    if (task && task.status !== TASK_RUNNING && task.exitedAtNs !== null) return { ended: endOfTask(task.exitStatus, task.exitedAtNs) };
    return { gone: 'container-vanished' };
  }

  kill(id: string, signal: KillSignal): Promise<void> {
    return this.client.kill(id, SIGNAL_NUMBER[signal]);
  }

  settler() {
    return containerdSettler(this.client);
  }

  close(): void {
    this.client.close();
  }
}

export interface ContainerdSettings {
  address: string;
  namespace: string;
}

/** The containerd attachment: the generic watcher on containerd's adapter. */
export async function containerdAttachment(ctx: AgentContext, s: ContainerdSettings, backoff?: Backoff): Promise<RuntimeWatcher> {
  return watchRuntime(ctx, new ContainerdAdapter(new ContainerdClient(s.address, s.namespace)), backoff);
}
