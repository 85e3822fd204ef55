// The containerd attachment (docs/containerd.md): follows the namespace's task events, attaches a run
// to every selected workload container from its task's start to its exit, identifies it by its pod's
// labels, reads its cgroup through /proc/<pid>/cgroup (any layout: kubepods v1 or v2, or ctr's), closes
// it with containerd's own start and exit times, enforces the time limit with a task kill, and
// reconnects when containerd goes away.
import { readFileSync } from 'node:fs';
import type { AgentContext, Attachment } from '../agent/agent.js';
import { endVerdict } from '../docker/end.js';
import { v2CgroupDir, watchPopulated } from '../docker/populated.js';
import { isSelected, parseSelector, type Selector } from '../docker/select.js';
import { epochNsToMonoNs } from '../docker/time.js';
import { finishTracked, newTracked, nullReader, releaseTracked, type TrackedRun } from '../docker/tracked.js';
import { monoNowNs } from '../sampler/ticker.js';
import { signalWithGrace } from '../runtime/kill.js';
import { pickCgroup } from '../sources/cgroup-mounts.js';
import { aliveCheck } from '../sources/proc-alive.js';
import { CgroupReader } from '../sources/cgroup.js';
import { ContainerdClient, type CtrEvent } from './client.js';
import { isSandbox, podIdentity, sandboxOf } from './identity.js';
import { TASK_RUNNING } from './proto.js';

const SIGKILL = 9;
const SIGTERM = 15;
const RETRY_MS = [250, 500, 1000, 2000, 5000];

export class ContainerdWatcher implements Attachment {
  private readonly selector: Selector;
  private readonly tracked = new Map<string, TrackedRun>();
  private readonly ignored = new Set<string>();
  private readonly queues = new Map<string, Promise<void>>();
  private cancelStream: (() => void) | null = null;
  private retry = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Container id → the newest run an earlier agent process left unfinished (linked as previousRunId). */
  private readonly previousRun = new Map<string, string>();

  constructor(private readonly ctx: AgentContext, private readonly client: ContainerdClient) {
    this.selector = parseSelector(ctx.config.select);
    for (const run of ctx.interruptedAtStart) {
      if (run.runtime === 'containerd' && run.containerId && !this.previousRun.has(run.containerId)) this.previousRun.set(run.containerId, run.id);
    }
  }

  start(): void {
    this.ctx.setSource('containerd', { up: false, reason: 'connecting' });
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.cancelStream?.();
    await Promise.allSettled([...this.queues.values()]);
    for (const t of this.tracked.values()) releaseTracked(t);
    this.tracked.clear();
    this.client.close();
  }

  runOf(containerId: string): string | null {
    return this.tracked.get(containerId)?.runId ?? null;
  }

  private connect(): void {
    if (this.stopped) return;
    // Subscribe first, then list: a task that starts in between is seen by the stream (attach is idempotent).
    this.cancelStream = this.client.subscribe(
      (e) => this.onEvent(e),
      (err) => this.onDown(err ? err.message : 'event stream ended'),
    );
    this.onConnected().then(
      () => {
        this.retry = 0;
      },
      (e: Error) => this.onDown(e.message),
    );
  }

  private onDown(reason: string): void {
    if (this.stopped) return;
    this.cancelStream?.();
    this.cancelStream = null;
    this.ctx.setSource('containerd', { up: false, reason });
    this.ctx.log.warn('containerd unavailable, retrying', { reason });
    if (this.retryTimer) return;
    const delay = RETRY_MS[Math.min(this.retry++, RETRY_MS.length - 1)];
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private enqueue(id: string, work: () => Promise<void> | void): Promise<void> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.then(work).catch((e: Error) => this.ctx.errors.note('containerd', e, { containerId: id }));
    this.queues.set(id, next);
    void next.finally(() => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    });
    return next;
  }

  private onEvent(e: CtrEvent): void {
    const id = e.containerId;
    switch (e.topic) {
      case '/tasks/start':
        void this.enqueue(id, () => this.attach(id, e.pid, e.timeNs, false));
        break;
      case '/tasks/exit':
        // Exec'd processes exit with their own id; only the init process ends the container's run.
        if (e.execId === '' || e.execId === id) void this.enqueue(id, () => this.onExit(id, e.exitStatus, e.exitedAtNs ?? e.timeNs));
        break;
      case '/tasks/oom':
        void this.enqueue(id, () => {
          const t = this.tracked.get(id);
          if (t) t.sawOom = true;
        });
        break;
      case '/containers/delete':
        void this.enqueue(id, () => {
          this.ignored.delete(id);
          const t = this.tracked.get(id);
          if (t) this.finishVanished(t, 'container-removed-before-exit');
        });
        break;
    }
  }

  /** Attaches a run to a workload container whose init task runs as `pid`. */
  private async attach(id: string, pid: number, startNs: bigint | null, late: boolean): Promise<void> {
    if (this.ignored.has(id) || this.tracked.has(id)) return;
    // The cgroup first, while the task surely runs; then who it is (a round trip to containerd).
    let procText: string | null = null;
    // The alive check first: a pid that dies and is reused after it reads as ended, never as the target.
    const alive = aliveCheck(pid);
    try {
      procText = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      procText = null; // exited already
    }
    const all = await this.client.listContainers();
    const c = all.find((x) => x.id === id);
    if (!c) return;
    if (isSandbox(c)) {
      this.ignored.add(id); // a pod's sandbox (pause): never a run
      return;
    }
    const { runs, sampler, mounts, node } = this.ctx.stack;
    const who = podIdentity(c, sandboxOf(c, all), node, this.ctx.config.timeLimit);
    if (!isSelected(this.selector, { labels: who.selectionLabels, name: who.name, image: c.image })) {
      this.ignored.add(id);
      return;
    }
    // The hierarchy that holds this container's own cgroup (its path names the container id), checked on disk.
    const pick = procText !== null && mounts ? pickCgroup(procText, mounts, { mustContain: id }) : null;
    const paths = pick && 'paths' in pick ? pick.paths : null;
    const clock = { wallMs: Date.now(), monoNs: monoNowNs() };
    const flags = [...who.flags];
    if (pick && 'paths' in pick) {
      flags.push(`method: cgroup ${pick.method}`);
      this.ctx.stack.cgroupLayout.lastPicked = pick.method;
    }
    if (!paths) flags.push(procText === null || !alive() ? 'exited-before-attach' : 'no-cgroup');
    const noCgroupWhy = pick && 'reason' in pick ? pick.reason : null;
    if (noCgroupWhy && alive()) flags.push(`counter-unreadable: ${noCgroupWhy}`);
    // A late attach has no start event: containerd's API gives no task start time, so the run starts now.
    const startedAtNs = startNs ?? BigInt(clock.wallMs) * 1_000_000n;
    if (late || startNs === null) flags.push('attached-late', 'start-time-unknown');
    const startedMonoNs = epochNsToMonoNs(startedAtNs, clock);
    // The run an earlier agent left unfinished on this very container: kubelet restarts a workload as a
    // new container (a new id), so the same id found running again is the same life.
    const previousRunId = late ? (this.previousRun.get(id) ?? null) : null;
    this.previousRun.delete(id);
    const run = runs.start({
      identity: who.identity,
      reader: paths ? new CgroupReader(paths, { alive }) : nullReader,
      gpuKey: id,
      startedWallMs: Number(startedAtNs / 1_000_000n),
      startedMonoNs,
      timeLimitSeconds: who.timeLimitSeconds,
      previousRunId,
      flags,
      // The run manager's deadline calls this once, after its last read of the counters.
      enforce: this.ctx.config.enforceTimeLimit ? () => this.enforceLimit(id) : undefined,
    });
    if (noCgroupWhy && alive()) {
      // A living container whose counters no hierarchy holds: unknown figures, said loudly (the cgroup source is down).
      this.ctx.stack.counters.fail('cgroup', run.id, `counter-unreadable: ${noCgroupWhy}`);
    }
    const t = newTracked(id, run.id, startedAtNs, startedMonoNs);
    this.tracked.set(id, t);
    sampler.sampleRunNow(run.id);
    const v2Dir = procText !== null && mounts ? v2CgroupDir(procText, mounts, id) : null;
    if (v2Dir) {
      t.populated = watchPopulated(v2Dir, () => {
        t.emptiedMonoNs = monoNowNs();
        sampler.sampleRunNow(t.runId);
      });
    }
    this.ctx.log.info('containerd container attached', { runId: run.id, containerId: id, team: run.team, case: run.case, late, previousRunId });
  }

  /**
   * The target's enforcement of the time limit: signal every process of the task through containerd,
   * as the Docker side does: SIGTERM, then SIGKILL after --kill-grace-seconds (SIGKILL at once without).
   */
  private enforceLimit(id: string): void {
    const t = this.tracked.get(id);
    if (!t || t.killedByAgent) return;
    t.killedByAgent = true;
    const graceSeconds = this.ctx.config.killGraceSeconds;
    this.ctx.log.info('time limit reached: killing task', { runId: t.runId, containerId: id, graceSeconds });
    t.kill = signalWithGrace(graceSeconds, (signal) => {
      if (signal === 'SIGKILL' && graceSeconds > 0) {
        if (this.tracked.get(id) !== t) return;
        // The run manager read the counters just before SIGTERM; after the grace period, read again.
        this.ctx.stack.sampler.sampleRunNow(t.runId);
      }
      const number = signal === 'SIGKILL' ? SIGKILL : SIGTERM;
      this.client.kill(id, number).catch((err: Error) => this.ctx.log.error('killing task failed', { containerId: id, signal, error: err.message }));
    });
  }

  private onExit(id: string, exitStatus: number, exitedAtNs: bigint | null): void {
    const t = this.tracked.get(id);
    if (!t) return;
    // The final counters: the cgroup still exists until the task is deleted.
    this.ctx.stack.sampler.sampleRunNow(t.runId);
    // containerd has no kill event: a task the agent did not signal that ended by a signal (runc reports
    // 128 + signal) was killed by someone else (ctr task kill, kubelet), as Docker's `kill` event says there.
    // An OOM kill (also 137) is told apart by its /tasks/oom event, which endVerdict puts first.
    const bySignal = exitStatus > 128 && exitStatus <= 128 + 64;
    const verdict = endVerdict({ exitCode: exitStatus, oomKilled: false, sawOom: t.sawOom, killedByAgent: t.killedByAgent, killedExternally: bySignal && !t.killedByAgent });
    const flags = t.emptiedMonoNs !== null ? ['read-at-cgroup-empty'] : [];
    this.tracked.delete(id);
    void finishTracked(this.ctx.stack.runs, t, verdict, exitedAtNs, flags, this.ctx.log);
  }

  private finishVanished(t: TrackedRun, flag: string): void {
    this.tracked.delete(t.containerId);
    void finishTracked(this.ctx.stack.runs, t, { status: 'interrupted', terminationReason: 'agent interrupted', exitCode: null }, null, [flag], this.ctx.log);
  }

  /** After every (re)connect: attach late to running tasks, settle followed ones that ended meanwhile. */
  private async onConnected(): Promise<void> {
    const tasks = await this.client.listTasks();
    this.ctx.setSource('containerd', { up: true });
    const running = new Map(tasks.filter((x) => x.status === TASK_RUNNING).map((x) => [x.containerId, x]));
    const work: Promise<void>[] = [];
    for (const [id, task] of running) if (!this.ignored.has(id)) work.push(this.enqueue(id, () => this.attach(id, task.pid, null, true)));
    for (const t of [...this.tracked.values()]) {
      if (running.has(t.containerId)) continue;
      work.push(
        this.enqueue(t.containerId, async () => {
          if (this.tracked.get(t.containerId) !== t) return;
          const task = await this.client.getTask(t.containerId);
          if (task && task.exitedAtNs !== null) this.onExit(t.containerId, task.exitStatus, task.exitedAtNs);
          else this.finishVanished(t, 'container-vanished');
        }),
      );
    }
    await Promise.all(work);
    this.ctx.log.info('containerd connected', { namespace: this.client.namespace, running: running.size, followed: this.tracked.size });
  }
}

export interface ContainerdSettings {
  address: string;
  namespace: string;
}

/** The attachment factory for `--runtime containerd` (and `auto` where the socket exists). */
export async function containerdAttachment(ctx: AgentContext, s: ContainerdSettings): Promise<ContainerdWatcher> {
  const watcher = new ContainerdWatcher(ctx, new ContainerdClient(s.address, s.namespace));
  watcher.start();
  return watcher;
}
