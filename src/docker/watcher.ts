// The Docker attachment: follows container events, attaches a run to every selected container from
// its start to its exit, reads it at the exit (cgroup.events), closes it with Docker's own times and
// status, enforces the time limit, and survives Docker going away. Inspects each container once per
// attach and once at its end; never per sample.
import { readdirSync, readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import type { AgentContext, Attachment } from '../agent/agent.js';
import { rememberBounded } from '../core/bounded-map.js';
import { CREATED_BEFORE_START_FLAG } from '../core/official-model.js';
import { monoNowNs } from '../sampler/ticker.js';
import { pickCgroup, type CgroupPick } from '../sources/cgroup-mounts.js';
import { aliveCheck } from '../sources/proc-alive.js';
import { CgroupReader } from '../sources/cgroup.js';
import { endVerdict } from './end.js';
import { EventFeed, type Backoff, type ContainerEvent } from './events.js';
import { createDockerClient } from './client.js';
import { containerIdentity, containerName, type InspectFacts } from './identity.js';
import { killContainer } from './limit.js';
import { guarded } from '../agent/errors.js';
import { missedContainers, RECOVERED_FROM_DOCKER_FLAG } from './missed.js';
import { v2CgroupDir, watchPopulated } from './populated.js';
import { isSelected, parseSelector, type Selector } from './select.js';
import { epochNsToMonoNs, parseDockerTimeNs } from './time.js';
import { finishTracked, newTracked, nullReader, releaseTracked, type TrackedRun } from './tracked.js';

/** Finished containers remembered until their `destroy` event. */
const MAX_ENDED = 512;

/**
 * How a run is attached: at Docker's start event (imageRef: the image as the event names it, so its
 * labels are fetched alongside the inspect), late (found running at a (re)connect), or missed (found
 * ended, never seen start, with no run: missed.ts).
 */
type AttachMode = { late: false; eventTimeNs: bigint; imageRef?: string } | { late: true } | { late: false; missed: true };
interface ImageFacts {
  id: string;
  labels: Record<string, string>;
}

export interface WatcherStats {
  /** Docker's start-event time → first sample, per event-attached run (ms), most recent last. */
  firstSampleLatencyMs: number[];
  attachedRuns: number;
}

const MAX_KEPT_LATENCIES = 1000;
const MAX_CACHED_IMAGES = 256;

function listDir(dir: string): string[] | null {
  try {
    return readdirSync(dir);
  } catch {
    return null;
  }
}

export class DockerWatcher implements Attachment {
  private readonly selector: Selector;
  private readonly tracked = new Map<string, TrackedRun>();
  /** Containers inspected and not selected: not inspected again until destroyed. */
  private readonly ignored = new Set<string>();
  /** Per-container chain, so a container's events are handled in order (attach before die). */
  private readonly queues = new Map<string, Promise<void>>();
  /** Container id → the newest run an earlier agent process left unfinished (linked as previousRunId). */
  private readonly previousRun = new Map<string, { runId: string; startedWallMs: number }>();
  private readonly feed: EventFeed;
  private readonly latenciesMs: number[] = [];
  private attachedRuns = 0;
  /** Image id → its labels (content-addressed, so never stale); bounded, oldest dropped first. */
  private readonly imageLabels = new Map<string, Record<string, string>>();
  /** Container id → its finished run and Docker's FinishedAt, until its `destroy` (bounded, oldest dropped). */
  private readonly ended = new Map<string, { runId: string; finishedAtNs: bigint }>();
  /** Image reference (as in start events) → the id it named when last inspected. */
  private readonly imageIdByRef = new Map<string, string>();

  constructor(private readonly ctx: AgentContext, private readonly docker: Docker, backoff?: Backoff) {
    this.selector = parseSelector(ctx.config.select);
    for (const run of ctx.interruptedAtStart) {
      if (run.containerId && !this.previousRun.has(run.containerId)) this.previousRun.set(run.containerId, { runId: run.id, startedWallMs: run.startedWallMs });
    }
    this.feed = new EventFeed(docker, {
      onEvent: (e) => this.onEvent(e),
      onConnected: () => this.onConnected(),
      onDown: (reason) => {
        this.ctx.setSource('docker', { up: false, reason });
        this.ctx.log.warn('docker unavailable, retrying', { reason });
      },
    }, backoff);
  }

  start(): void {
    this.ctx.setSource('docker', { up: false, reason: 'connecting' });
    this.feed.start();
  }

  async stop(): Promise<void> {
    this.feed.stop();
    await Promise.allSettled([...this.queues.values()]);
    for (const t of this.tracked.values()) releaseTracked(t);
    this.tracked.clear();
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
    const next = prev
      .then(work)
      .catch((e: Error) => this.ctx.errors.note('docker', e, { containerId }));
    this.queues.set(containerId, next);
    void next.finally(() => {
      if (this.queues.get(containerId) === next) this.queues.delete(containerId);
    });
    return next;
  }

  private onEvent(e: ContainerEvent): void {
    const id = e.containerId;
    switch (e.action) {
      case 'start':
        void this.enqueue(id, () => this.attach(id, { late: false, eventTimeNs: e.timeNs, imageRef: e.attributes['image'] }));
        break;
      case 'die':
        void this.enqueue(id, () => this.onDie(id, e));
        break;
      case 'oom':
        void this.enqueue(id, () => {
          const t = this.tracked.get(id);
          if (t) t.sawOom = true;
        });
        break;
      case 'kill':
        void this.enqueue(id, () => {
          const t = this.tracked.get(id);
          if (!t) return;
          if (t.ownKillsPending > 0) t.ownKillsPending--;
          else t.killedExternally = true;
        });
        break;
      case 'destroy':
        void this.enqueue(id, () => {
          this.ignored.delete(id);
          const t = this.tracked.get(id);
          // Removed without a `die` we saw (e.g. while the stream was down): close with what was measured.
          if (t) this.finishVanished(t, 'container-removed-before-die');
          else this.noteRemoved(id, e.timeNs);
        });
        break;
    }
  }

  private async inspect(containerId: string): Promise<InspectFacts | null> {
    try {
      return (await this.docker.getContainer(containerId).inspect()) as unknown as InspectFacts;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
  }

  private async inspectImage(ref: string): Promise<ImageFacts | null> {
    try {
      const image = (await this.docker.getImage(ref).inspect()) as { Id: string; Config?: { Labels?: Record<string, string> | null } | null };
      const facts = { id: image.Id, labels: image.Config?.Labels ?? {} };
      rememberBounded(this.imageLabels, facts.id, facts.labels, MAX_CACHED_IMAGES);
      rememberBounded(this.imageIdByRef, ref, facts.id, MAX_CACHED_IMAGES);
      return facts;
    } catch (e) {
      this.ctx.log.warn('image inspect failed', { image: ref.slice(0, 200), error: (e as Error).message });
      return null;
    }
  }

  /** Starts fetching the labels of the image a start event names, unless they are known already. */
  private prefetchImage(ref: string | undefined): Promise<ImageFacts | null> | null {
    if (!ref) return null;
    const known = this.imageIdByRef.get(ref);
    return known !== undefined && this.imageLabels.has(known) ? null : this.inspectImage(ref);
  }

  /**
   * The labels baked into the container's image, to tell them from those the organiser set at
   * `docker run` (identity.ts, docs/security.md). null: not known (image gone, inspect failed).
   * A name can be re-tagged meanwhile: a prefetched image counts only if its id is the container's.
   */
  private async labelsOfImage(imageId: string, prefetched: Promise<ImageFacts | null> | null): Promise<Record<string, string> | null> {
    const byName = prefetched ? await prefetched : null;
    if (byName?.id === imageId) return byName.labels;
    return this.imageLabels.get(imageId) ?? (await this.inspectImage(imageId))?.labels ?? null;
  }

  /** Attaches a run to a container (from a start event, or from a listing: late). */
  private async attach(containerId: string, mode: AttachMode, info?: InspectFacts | null): Promise<void> {
    if (this.ignored.has(containerId)) return;
    const prefetch = 'eventTimeNs' in mode ? this.prefetchImage(mode.imageRef) : null;
    info ??= await this.inspect(containerId);
    if (!info) return;
    const missed = 'missed' in mode;
    // Looked for again in the container's own queue: a start event handled meanwhile made its run.
    if (missed && (this.tracked.has(containerId) || this.ctx.store.hasContainerRunSince(containerId, Number((parseDockerTimeNs(info.State.StartedAt) ?? 0n) / 1_000_000n)))) return;
    const existing = this.tracked.get(containerId);
    const startedAtNs = parseDockerTimeNs(info.State.StartedAt);
    if (existing) {
      if (startedAtNs === existing.startedAtNs) return; // same life: keep measuring it
      this.finishVanished(existing, 'container-restarted');
    }
    const name = containerName(info);
    if (!isSelected(this.selector, { labels: info.Config.Labels ?? {}, name, image: info.Config.Image })) {
      this.ignored.add(containerId);
      return;
    }
    if (!info.State.Running && mode.late) return; // listed running, gone since: nothing to measure
    const { runs, sampler, mounts, node } = this.ctx.stack;
    const clock = { wallMs: Date.now(), monoNs: monoNowNs() };
    const startNs = startedAtNs ?? BigInt(clock.wallMs) * 1_000_000n;
    const startedMonoNs = epochNsToMonoNs(startNs, clock);
    let procText: string | null = null;
    let alive: () => boolean = () => false;
    if (info.State.Running && info.State.Pid > 0) {
      try {
        // The alive check first: a pid that dies and is reused after it reads as ended, never as the target.
        alive = aliveCheck(info.State.Pid);
        procText = readFileSync(`/proc/${info.State.Pid}/cgroup`, 'utf8');
      } catch {
        procText = null; // exited between inspect and here
      }
    }
    // The hierarchy that holds this container's own cgroup (its path names the container id), checked on disk.
    const pick: CgroupPick | { reason: string } | null = procText !== null && mounts ? pickCgroup(procText, mounts, { mustContain: info.Id }) : null;
    const paths = pick && 'paths' in pick ? pick.paths : null;
    // After /proc was read: a container that exits meanwhile keeps its cgroup paths.
    const imageLabels = await this.labelsOfImage(info.Image, prefetch);
    const who = containerIdentity(info, node, this.ctx.config.timeLimit, { imageLabels, trustImageLabels: this.ctx.config.unsafeTrustImageLabels }, listDir, this.ctx.stack.gpu.devices(), this.ctx.stack.gpu.migDevices?.() ?? []);
    const flags = [...who.flags];
    if (pick && 'paths' in pick) {
      flags.push(`method: cgroup ${pick.method}`);
      this.ctx.stack.cgroupLayout.lastPicked = pick.method;
    }
    const noCgroupWhy = pick && 'reason' in pick ? pick.reason : null;
    if (!paths) flags.push(info.State.Running && alive() ? 'no-cgroup' : 'exited-before-attach');
    if (noCgroupWhy && alive()) flags.push(`counter-unreadable: ${noCgroupWhy}`);
    const missedSeconds = (clock.monoNs - startedMonoNs) / 1e9;
    if (mode.late) flags.push('attached-late', `attached-late:${missedSeconds.toFixed(3)}s`);
    if (missed) flags.push(RECOVERED_FROM_DOCKER_FLAG);
    const createdNs = parseDockerTimeNs(info.Created);
    // Docker's create → start, for the official span (docs/scoring.md); Docker's own clock, ns precision.
    if (createdNs !== null && startedAtNs !== null && startedAtNs >= createdNs) flags.push(`${CREATED_BEFORE_START_FLAG}${(Number(startedAtNs - createdNs) / 1e9).toFixed(6)}s`);
    // Linked only within the same life of the container (same Docker StartedAt), not across a restart.
    const previous = this.previousRun.get(containerId);
    const previousRunId = previous && previous.startedWallMs === Number(startNs / 1_000_000n) ? previous.runId : null;
    this.previousRun.delete(containerId);
    const run = runs.start({
      identity: who.identity,
      reader: paths ? new CgroupReader(paths, { alive }) : nullReader,
      gpuKey: info.Id,
      startedWallMs: Number(startNs / 1_000_000n),
      startedMonoNs,
      timeLimitSeconds: who.timeLimitSeconds,
      previousRunId,
      flags,
      // The run manager's deadline calls this once, after its last read of the counters.
      enforce: this.ctx.config.enforceTimeLimit ? () => this.enforceLimit(containerId) : undefined,
    });
    if (noCgroupWhy && alive()) {
      // A living container whose counters no hierarchy holds: unknown figures, said loudly.
      this.ctx.stack.counters.fail('cgroup', run.id, `counter-unreadable: ${noCgroupWhy}`);
    }
    const t = newTracked(containerId, run.id, startNs, startedMonoNs);
    this.tracked.set(containerId, t);
    this.attachedRuns++;
    sampler.sampleRunNow(run.id);
    const firstSampleMonoNs = monoNowNs();
    let latencyMs: number | null = null;
    if ('eventTimeNs' in mode) {
      latencyMs = (firstSampleMonoNs - epochNsToMonoNs(mode.eventTimeNs, clock)) / 1e6;
      this.latenciesMs.push(latencyMs);
      if (this.latenciesMs.length > MAX_KEPT_LATENCIES) this.latenciesMs.shift();
    }
    const v2Dir = procText !== null && mounts ? v2CgroupDir(procText, mounts, info.Id) : null;
    if (v2Dir) {
      t.populated = watchPopulated(v2Dir, guarded(this.ctx.errors, 'exit-watch', () => {
        // The last process just exited; the cgroup still exists for a few ms: read the final counters.
        t.emptiedMonoNs = monoNowNs();
        sampler.sampleRunNow(t.runId);
      }));
    }
    if (missed) this.ctx.log.warn('run created from Docker\'s record of a container no agent saw start', { runId: run.id, containerId, team: run.team, case: run.case });
    else this.ctx.log.info('container attached', {
      runId: run.id, containerId, team: run.team, case: run.case, late: mode.late,
      missedSeconds: mode.late ? missedSeconds : undefined, firstSampleLatencyMs: latencyMs, previousRunId,
      exitWatch: t.populated ? 'cgroup.events' : 'ticks only',
    });
    // A container that was already gone when inspected: close its run with Docker's figures now.
    if (!info.State.Running) this.closeFromInspect(t, info, null);
  }

  /** The target's enforcement of the time limit: kill the whole container through Docker. */
  private enforceLimit(containerId: string): void {
    const t = this.tracked.get(containerId);
    if (!t || t.killedByAgent) return;
    const { sampler } = this.ctx.stack;
    t.killedByAgent = true;
    const graceSeconds = this.ctx.config.killGraceSeconds;
    this.ctx.log.info('time limit reached: killing container', { runId: t.runId, containerId, graceSeconds });
    t.kill = killContainer(this.docker, containerId, graceSeconds, {
      beforeSignal: (signal) => {
        t.ownKillsPending++;
        // The run manager read the counters just before the first signal; after a grace period, read again.
        if (signal === 'SIGKILL' && graceSeconds > 0 && this.tracked.has(containerId)) sampler.sampleRunNow(t.runId);
      },
      onError: (err, signal) => this.ctx.log.error('killing container failed', { containerId, signal, error: err.message }),
    });
  }

  private async onDie(containerId: string, e: ContainerEvent): Promise<void> {
    const t = this.tracked.get(containerId);
    if (!t) return;
    const info = await this.inspect(containerId).catch(() => null);
    this.closeFromInspect(t, info, e);
  }

  /** Closes a run from Docker's final state (or, when it was already removed, from the `die` event). */
  private closeFromInspect(t: TrackedRun, info: InspectFacts | null, die: ContainerEvent | null): void {
    const flags: string[] = [];
    let finishedAtNs = parseDockerTimeNs(info?.State.FinishedAt);
    if ((finishedAtNs === null || (info?.State.Running ?? false)) && die) {
      finishedAtNs = die.timeNs;
      flags.push('finished-at-from-event');
    }
    const exitCodeAttr = die ? Number(die.attributes['exitCode']) : NaN;
    const exitCode = info && !info.State.Running ? info.State.ExitCode : Number.isInteger(exitCodeAttr) ? exitCodeAttr : null;
    const verdict = endVerdict({
      exitCode,
      oomKilled: info?.State.OOMKilled ?? false,
      sawOom: t.sawOom,
      killedByAgent: t.killedByAgent,
      killedExternally: t.killedExternally,
    });
    if (t.emptiedMonoNs !== null) flags.push('read-at-cgroup-empty');
    this.tracked.delete(t.containerId);
    if (finishedAtNs !== null) {
      this.ended.set(t.containerId, { runId: t.runId, finishedAtNs });
      if (this.ended.size > MAX_ENDED) this.ended.delete(this.ended.keys().next().value!);
    }
    void finishTracked(this.ctx.stack.runs, t, verdict, finishedAtNs, flags, this.ctx.log);
  }

  /**
   * Docker removed a container whose run has ended (`--rm`, or `docker rm`): how long after its end,
   * a flag the official span model reads (FLARE's monitor stopped only after the removal; docs/scoring.md).
   */
  private noteRemoved(containerId: string, destroyNs: bigint): void {
    const ended = this.ended.get(containerId);
    if (!ended) return;
    this.ended.delete(containerId);
    if (destroyNs < ended.finishedAtNs) return;
    this.ctx.stack.runs.addLateFlag(ended.runId, `removed-after-end:${(Number(destroyNs - ended.finishedAtNs) / 1e9).toFixed(6)}s`);
  }

  /** Closes a run whose container went away without a `die` we saw: interrupted, with what was measured. */
  private finishVanished(t: TrackedRun, flag: string): void {
    this.tracked.delete(t.containerId);
    void finishTracked(this.ctx.stack.runs, t, { status: 'interrupted', terminationReason: 'agent interrupted', exitCode: null }, null, [flag], this.ctx.log);
    this.ctx.log.warn('run closed without a die event', { runId: t.runId, containerId: t.containerId, reason: flag });
  }

  /**
   * After every (re)connect: attach to selected running containers not yet followed (late), and
   * settle followed ones that stopped or vanished while the stream was down.
   */
  private async onConnected(): Promise<void> {
    const listed = await this.docker.listContainers({ all: false });
    this.ctx.setSource('docker', { up: true });
    const running = new Set(listed.map((c) => c.Id));
    const work: Promise<void>[] = [];
    for (const id of running) {
      if (this.ignored.has(id)) continue;
      work.push(this.enqueue(id, () => this.attach(id, { late: true })));
    }
    for (const t of [...this.tracked.values()]) {
      if (running.has(t.containerId)) continue;
      work.push(
        this.enqueue(t.containerId, async () => {
          if (this.tracked.get(t.containerId) !== t) return;
          const info = await this.inspect(t.containerId);
          if (!info) this.finishVanished(t, 'container-vanished');
          else if (!info.State.Running && parseDockerTimeNs(info.State.StartedAt) === t.startedAtNs) this.closeFromInspect(t, info, null);
          else this.finishVanished(t, 'container-restarted');
        }),
      );
    }
    // Ended containers of a watched span with no run: created from Docker's record (missed.ts).
    const missed = await missedContainers({
      docker: this.docker,
      selector: this.selector,
      windows: this.ctx.watched,
      skip: (id) => running.has(id) || this.tracked.has(id) || this.ignored.has(id) || this.ended.has(id),
      hasRunSince: (id, sinceWallMs) => this.ctx.store.hasContainerRunSince(id, sinceWallMs),
    }).catch((e: Error) => {
      this.ctx.log.warn('looking for missed containers failed', { error: e.message });
      return [];
    });
    for (const info of missed) work.push(this.enqueue(info.Id, () => this.attach(info.Id, { late: false, missed: true }, info)));
    await Promise.all(work);
    this.ctx.log.info('docker connected', { running: running.size, followed: this.tracked.size, createdFromRecord: missed.length });
  }
}

/** The attachment factory registered with `start`. */
export async function dockerAttachment(ctx: AgentContext, backoff?: Backoff): Promise<DockerWatcher> {
  const watcher = new DockerWatcher(ctx, createDockerClient(ctx.config.dockerHost), backoff);
  watcher.start();
  return watcher;
}
