// The one container watcher, for every runtime: follows the adapter's lifecycle events, attaches a run
// to every selected container from its start to its exit (attach.ts), closes it with the runtime's own
// end, enforces the time limit through the runtime (enforce.ts), and after the event stream comes back
// (reconnect.ts) attaches late to what runs, settles what ended meanwhile, corrects ends it could not
// confirm (corrections.ts) and asks for what it missed entirely. Each
// container's events are handled in order on its own queue; the runtime is asked once per attach and
// once at the end, never per sample. What talking to a runtime means is its adapter's (adapter.ts).
import type { AgentContext, Attachment } from '../agent/context.js';
import type { ContainerEnd, ContainerFacts, LifecycleEvent, RuntimeAdapter } from './adapter.js';
import { readProc, startRun, type AttachMode } from './attach.js';
import { ProvisionalEnds } from './corrections.js';
import { endVerdict } from './end.js';
import { Enforcer } from './enforce.js';
import { Reconnector, type Backoff } from './reconnect.js';
import { isSelected, parseSelector, type Selector } from './select.js';
import { kernelOom, needsOomGrace, OOM_RECHECK_MS, oomCountUnreadAtEnd, oomEventGrace, readOomCountAtEnd } from './oom.js';
import { finishTracked, releaseTracked, type TrackedRun } from './tracked.js';
import { rememberBounded } from '../core/bounded-map.js';
import { toMicroseconds, type RunFacts, type RunFlag } from '../core/run-facts.js';

/** Finished containers remembered until their removal. */
const MAX_ENDED = 512;
const MAX_KEPT_LATENCIES = 1000;
/** OOM events of containers not (yet) tracked, kept for their attach. */
const MAX_PENDING_OOM = 512;


export interface WatcherStats {
  /** Start event → first sample, per event-attached run (ms), most recent last. */
  firstSampleLatencyMs: number[];
  attachedRuns: number;
}

export class RuntimeWatcher implements Attachment {
  private readonly selector: Selector;
  private readonly tracked = new Map<string, TrackedRun>();
  /** Containers inspected and not selected (or never a run): not inspected again until removed. */
  private readonly ignored = new Set<string>();
  /** Per-container chain, so a container's events are handled in order (attach before exit). */
  private readonly queues = new Map<string, Promise<void>>();
  /** Container id → the newest run an earlier agent process left unfinished on it (linked as previousRunId). */
  private readonly previousRun = new Map<string, { runId: string; startedWallMs: number }>();
  /** Container id → its finished run and the runtime's end time, until its removal (bounded, oldest dropped). */
  private readonly ended = new Map<string, { runId: string; finishedAtNs: bigint }>();
  private readonly enforcer: Enforcer;
  /** Rechecks waiting (cleared at stop). */
  private readonly rechecks = new Set<NodeJS.Timeout>();
  /** OOM events that came before their container's run was tracked (an attach in progress). */
  private readonly pendingOom = new Map<string, true>();
  private readonly latenciesMs: number[] = [];
  private attachedRuns = 0;
  private readonly link: Reconnector;
  private readonly name: RuntimeAdapter['name'];
  /** Runs closed with an end the runtime could not confirm: corrected after the next reconnect. */
  private readonly provisional: ProvisionalEnds;

  constructor(private readonly ctx: AgentContext, private readonly adapter: RuntimeAdapter, backoff?: Backoff) {
    this.name = adapter.name;
    this.provisional = new ProvisionalEnds(ctx.store, adapter.name, ctx.log);
    this.enforcer = new Enforcer(ctx, adapter, (id) => this.tracked.get(id));
    this.selector = parseSelector(ctx.config.select);
    // Rows written before runs recorded their runtime are Docker's.
    for (const run of ctx.interruptedAtStart) {
      if ((run.runtime ?? 'docker') !== adapter.name || !run.containerId || this.previousRun.has(run.containerId)) continue;
      this.previousRun.set(run.containerId, { runId: run.id, startedWallMs: run.startedWallMs });
    }
    this.link = new Reconnector(adapter.name, {
      open: (onDown) => adapter.subscribe((e) => this.onEvent(e), onDown),
      onConnected: () => this.onConnected(),
      onDown: (reason) => {
        this.ctx.setSource(adapter.name, { up: false, reason });
        this.ctx.log.warn(`${this.name} unavailable, retrying`, { reason });
      },
    }, backoff);
  }

  start(): void {
    this.ctx.setSource(this.adapter.name, { up: false, reason: 'connecting' });
    this.link.start();
  }

  async stop(): Promise<void> {
    this.link.stop();
    for (const timer of this.rechecks) clearTimeout(timer);
    this.rechecks.clear();
    await Promise.allSettled([...this.queues.values()]);
    for (const t of this.tracked.values()) releaseTracked(t);
    this.tracked.clear();
    this.adapter.close();
  }

  stats(): WatcherStats {
    return { firstSampleLatencyMs: [...this.latenciesMs], attachedRuns: this.attachedRuns };
  }

  /** The run attached to a container right now, if any. */
  runOf(containerId: string): string | null {
    return this.tracked.get(containerId)?.runId ?? null;
  }

  private enqueue(containerId: string, work: () => Promise<void> | void): Promise<void> {
    const prev = this.queues.get(containerId) ?? Promise.resolve();
    const next = prev.then(work).catch((e: Error) => this.ctx.errors.note(this.name, e, { containerId }));
    this.queues.set(containerId, next);
    // Only clears the queue's slot: `next` already catches every error (errors.note above).
    void next.finally(() => {
      if (this.queues.get(containerId) === next) this.queues.delete(containerId);
    });
    return next;
  }

  private onEvent(e: LifecycleEvent): void {
    const id = e.containerId;
    switch (e.kind) {
      case 'start':
        // enqueue's chain catches and counts every error; events of one container stay in order.
        void this.enqueue(id, () => this.attach(id, { how: 'event', start: e }));
        break;
      case 'exit':
        // enqueue's chain catches and counts every error; events of one container stay in order.
        void this.enqueue(id, async () => {
          const t = this.tracked.get(id);
          if (!t) return;
          if (this.adapter.traits.readAtExit) this.ctx.stack.sampler.sampleRunNow(t.runId);
          readOomCountAtEnd(t); // while the cgroup may still exist
          const end = await this.adapter.endOf(id, e);
          if (needsOomGrace(t, end)) await oomEventGrace(t);
          if (this.tracked.get(id) === t) this.close(t, end);
        });
        break;
      case 'oom': {
        // Marked at once, not queued: the exit handler or the attach may be waiting for it (oom.ts).
        const t = this.tracked.get(id);
        if (t) t.sawOom = true;
        else rememberBounded(this.pendingOom, id, true, MAX_PENDING_OOM);
        break;
      }
      case 'kill':
        // enqueue's chain catches and counts every error; events of one container stay in order.
        void this.enqueue(id, () => {
          const t = this.tracked.get(id);
          if (!t) return;
          if (t.ownKillsPending > 0) t.ownKillsPending--;
          else t.killedExternally = true;
        });
        break;
      case 'remove':
        // enqueue's chain catches and counts every error; events of one container stay in order.
        void this.enqueue(id, () => {
          this.ignored.delete(id);
          this.pendingOom.delete(id);
          const t = this.tracked.get(id);
          // Removed without an exit we saw (e.g. while the stream was down): close with what was measured.
          if (t) this.finishVanished(t, 'container-removed-before-exit');
          else if (e.timeNs !== null) this.noteRemoved(id, e.timeNs);
        });
        break;
    }
  }

  /** Attaches a run to a container, unless it is followed in this life already, not selected, or gone. */
  private async attach(id: string, mode: AttachMode, known?: ContainerFacts, listedPid?: number): Promise<void> {
    if (this.ignored.has(id)) return;
    try {
      await this.attachNow(id, mode, known, listedPid);
    } finally {
      this.enforcer.forget(id);
    }
  }

  private async attachNow(id: string, mode: AttachMode, known?: ContainerFacts, listedPid?: number): Promise<void> {
    let facts: ContainerFacts | null;
    // With a pid from the event or listing, the cgroup is read first, while the process surely runs.
    const pid = mode.how === 'event' ? mode.start.pid : listedPid;
    const early = pid !== undefined ? readProc(pid) : null;
    facts = known ?? (await this.adapter.inspect(id, { start: mode.how === 'event' ? mode.start : undefined, pid }));
    if (!facts) return;
    if (facts.neverRun) {
      this.ignored.add(id);
      return;
    }
    // Looked for again in the container's own queue: a start event handled meanwhile made its run.
    if (mode.how === 'missed' && (this.tracked.has(id) || this.ctx.store.hasContainerRunSince(id, Number((facts.startedAtNs ?? 0n) / 1_000_000n)))) return;
    const existing = this.tracked.get(id);
    if (existing) {
      // The same life (or one whose start the runtime does not say): keep measuring it.
      if (!existing.startKnown || facts.startedAtNs === null || facts.startedAtNs === existing.startedAtNs) return;
      this.finishVanished(existing, 'container-restarted');
    }
    if (!isSelected(this.selector, facts.selection)) {
      this.ignored.add(id);
      return;
    }
    if (!facts.running && mode.how === 'late') {
      // Listed running, ended since: nothing left to measure, but its run is due, from the runtime's record.
      if (!facts.end || facts.startedAtNs === null || this.ctx.store.hasContainerRunSince(id, Number(facts.startedAtNs / 1_000_000n))) return;
      mode = { how: 'missed' };
    }
    const proc = early ?? readProc(facts.running ? facts.pid : 0);
    if (mode.how === 'missed') facts = { ...facts, flags: ['created-from-runtime-record', ...facts.flags] };
    const { tracked: t, firstSampleLatencyMs } = await startRun(this.ctx, facts, mode, proc, {
      previousRunId: (startedWallMs) => this.previousRunOf(id, startedWallMs, mode.how === 'late'),
      enforce: this.ctx.config.enforceTimeLimit ? () => this.enforcer.enforce(id) : undefined,
    });
    this.tracked.set(id, t);
    this.attachedRuns++;
    if (this.pendingOom.delete(id)) t.sawOom = true;
    // Attached after its deadline (the agent was down when it fell due): killed now.
    this.enforcer.nowTracked(id);
    if (firstSampleLatencyMs !== null) {
      this.latenciesMs.push(firstSampleLatencyMs);
      if (this.latenciesMs.length > MAX_KEPT_LATENCIES) this.latenciesMs.shift();
    }
    // A container that was already gone when inspected: close its run with the runtime's figures now.
    if (!facts.running && facts.end) {
      if (needsOomGrace(t, facts.end)) await oomEventGrace(t);
      if (this.tracked.get(id) === t) this.close(t, facts.end);
    }
  }

  /**
   * The run an earlier agent left unfinished in this same life of the container: the same start time,
   * or, where the runtime gives none, the container found running again at a listing (kubelet restarts
   * a workload as a new container, so the same id running is the same life).
   */
  private previousRunOf(id: string, startedWallMs: number | null, late: boolean): string | null {
    const previous = this.previousRun.get(id);
    this.previousRun.delete(id);
    if (!previous) return null;
    return (startedWallMs === null ? late : previous.startedWallMs === startedWallMs) ? previous.runId : null;
  }


  /** Closes a run with its runtime's record of the end. */
  private close(t: TrackedRun, end: ContainerEnd): void {
    const byKernel = end.exitCode === 137 && kernelOom(t);
    const verdict = endVerdict({
      exitCode: end.exitCode,
      oomKilled: end.oomKilled || byKernel,
      sawOom: t.sawOom,
      killedByAgent: t.killedByAgent,
      killedExternally: t.killedExternally || (end.bySignal && !t.killedByAgent),
    });
    const flags = [...end.flags];
    const facts: RunFacts = {};
    if (t.emptiedMonoNs !== null) flags.push('read-at-cgroup-empty');
    // Which source named the OOM kill (docs/measurement.md): the runtime's record, its event, or the kernel's count.
    if (verdict.status === 'failed' && end.exitCode === 137 && !t.killedExternally && oomCountUnreadAtEnd(t)) flags.push('oom-count-unread-at-end');
    if (verdict.status === 'oom') facts.oomNamedBy = end.oomKilled ? (end.oomNamedBy ?? 'runtime-record') : t.sawOom ? 'runtime-event' : 'kernel-oom-kill-count';
    this.tracked.delete(t.containerId);
    if (end.finishedAtNs !== null && this.adapter.traits.removalAfterEndFlag) {
      this.ended.set(t.containerId, { runId: t.runId, finishedAtNs: end.finishedAtNs });
      if (this.ended.size > MAX_ENDED) this.ended.delete(this.ended.keys().next().value!);
    }
    const written = finishTracked(this.ctx.stack.runs, t, verdict, end.finishedAtNs, flags, facts, this.ctx.log);
    if (end.provisional) this.provisional.remember(t.containerId, { runId: t.runId, startedAtNs: t.startedAtNs, written, why: 'end-time' });
    else if (verdict.status === 'failed' && end.exitCode === 137 && !t.killedExternally) {
      // An OOM event later than the grace (under load) is still in the runtime's record: asked again.
      const id = t.containerId;
      this.provisional.remember(id, { runId: t.runId, startedAtNs: t.startedAtNs, written, why: 'oom' });
      const timer = setTimeout(() => {
        this.rechecks.delete(timer);
        // enqueue's chain catches and counts every error; a timer has no one to wait for it.
        void this.enqueue(id, () => this.provisional.correct(id, (c, startedAtNs) => this.adapter.afterGap(c, startedAtNs)));
      }, OOM_RECHECK_MS);
      timer.unref();
      this.rechecks.add(timer);
    }
  }

  /**
   * The runtime removed a container whose run has ended (`--rm`, or `docker rm`): how long after its
   * end, a fact the official span model reads (FLARE's monitor stopped only after the removal; docs/scoring.md).
   */
  private noteRemoved(id: string, removedNs: bigint): void {
    const ended = this.ended.get(id);
    if (!ended) return;
    this.ended.delete(id);
    if (removedNs < ended.finishedAtNs) return;
    this.ctx.stack.runs.noteRemoved(ended.runId, toMicroseconds(removedNs - ended.finishedAtNs));
  }

  /** Closes a run whose container went away without an exit we saw: interrupted, with what was measured. */
  private finishVanished(t: TrackedRun, flag: RunFlag): void {
    this.tracked.delete(t.containerId);
    // finishTracked never rejects: a verdict it cannot write is logged.
    void finishTracked(this.ctx.stack.runs, t, { status: 'interrupted', terminationReason: 'agent interrupted', exitCode: null }, null, [flag], {}, this.ctx.log);
    this.ctx.log.warn('run closed without an exit event', { runtime: this.name, runId: t.runId, containerId: t.containerId, reason: flag });
  }

  /**
   * After every (re)connect: attach to selected running containers not yet followed (late), settle
   * followed ones that stopped or vanished while the stream was down, and create the runs of ended
   * containers no agent saw (where the runtime keeps them).
   */
  private async onConnected(): Promise<void> {
    const listed = await this.adapter.listRunning();
    this.ctx.setSource(this.adapter.name, { up: true });
    const running = new Set(listed.map((c) => c.id));
    const work: Promise<void>[] = [];
    for (const c of listed) {
      if (this.ignored.has(c.id)) continue;
      work.push(this.enqueue(c.id, () => this.attach(c.id, { how: 'late' }, undefined, c.pid)));
    }
    for (const t of [...this.tracked.values()]) {
      if (running.has(t.containerId)) continue;
      work.push(
        this.enqueue(t.containerId, async () => {
          if (this.tracked.get(t.containerId) !== t) return;
          const outcome = await this.adapter.afterGap(t.containerId, t.startedAtNs);
          if (this.tracked.get(t.containerId) !== t) return;
          if ('gone' in outcome) return this.finishVanished(t, outcome.gone);
          if (this.adapter.traits.readAtExit) this.ctx.stack.sampler.sampleRunNow(t.runId);
          this.close(t, outcome.ended);
        }),
      );
    }
    // Ends the runtime could not confirm at the exit: its record, read again now.
    for (const id of this.provisional.containerIds()) {
      if (!running.has(id)) work.push(this.enqueue(id, () => this.provisional.correct(id, (c, startedAtNs) => this.adapter.afterGap(c, startedAtNs))));
    }
    const missed = this.adapter.missed
      ? await this.adapter.missed({
        selected: (facts) => isSelected(this.selector, facts),
        windows: this.ctx.watched,
        skip: (id) => running.has(id) || this.tracked.has(id) || this.ignored.has(id) || this.ended.has(id),
        hasRunSince: (id, sinceWallMs) => this.ctx.store.hasContainerRunSince(id, sinceWallMs),
      }).catch((e: Error) => {
        this.ctx.log.warn('looking for missed containers failed', { runtime: this.name, error: e.message });
        return [];
      })
      : [];
    for (const facts of missed) work.push(this.enqueue(facts.id, () => this.attach(facts.id, { how: 'missed' }, facts)));
    await Promise.all(work);
    this.ctx.log.info(`${this.name} connected`, { running: running.size, followed: this.tracked.size, createdFromRecord: missed.length });
  }
}

/** Starts a watcher on an adapter: the attachment every runtime registers with `start`. */
export function watchRuntime(ctx: AgentContext, adapter: RuntimeAdapter, backoff?: Backoff): RuntimeWatcher {
  const watcher = new RuntimeWatcher(ctx, adapter, backoff);
  watcher.start();
  return watcher;
}
