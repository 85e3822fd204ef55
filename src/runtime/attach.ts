// Starting the run of one container the watcher decided to follow, from its runtime's facts: the
// cgroup its init process lives in (any layout: Docker's, kubepods v1 or v2, ctr's), who it is, when it
// started, and how it was found. The same for every runtime; the runtime's part came in `facts`.
import type { AgentContext } from '../agent/context.js';
import { guarded } from '../agent/errors.js';
import { monoNowNs } from '../clock/ticker.js';
import { addToFactList, factText, type RunFacts } from '../core/run-facts.js';
import { pickCgroup } from '../cgroup/mounts.js';
import { CgroupReader } from '../cgroup/counters.js';
import { OomKillCount } from '../cgroup/oom-count.js';
import { readProcCgroup } from '../cgroup/proc-cgroup.js';
import { aliveCheck } from '../sources/proc-alive.js';
import type { ContainerFacts, LifecycleEvent } from './adapter.js';
import { epochNsToMonoNs } from './clock.js';
import { readOomCountAtEnd } from './oom.js';
import { v2CgroupDir, watchPopulated } from '../cgroup/populated.js';
import { newTracked, nullReader, type TrackedRun } from './tracked.js';

/** How a container is found: its start event, a listing at a (re)connect (late), or a runtime's record of an ended one (missed). */
export type AttachMode = { how: 'event'; start: LifecycleEvent & { kind: 'start' } } | { how: 'late' } | { how: 'missed' };

/** A process's cgroup file, read once, with a check that it is still the same living process. */
export interface ProcRead {
  procText: string | null;
  alive: () => boolean;
}

export function readProc(pid: number): ProcRead {
  // The alive check first: a pid that dies and is reused after it reads as ended, never as the target.
  const alive = aliveCheck(pid);
  if (pid <= 0) return { procText: null, alive };
  try {
    return { procText: readProcCgroup(pid), alive };
  } catch {
    return { procText: null, alive }; // exited already
  }
}

export interface Attached {
  tracked: TrackedRun;
  /** Start event → first sample (ms); null when not attached from an event. */
  firstSampleLatencyMs: number | null;
}

/**
 * Starts the run: reads the cgroup, identifies the container, records how it was found, takes the
 * first sample and watches cgroup.events (v2) for the moment its last process exits.
 */
export async function startRun(
  ctx: AgentContext,
  facts: ContainerFacts,
  mode: AttachMode,
  proc: ProcRead,
  opts: { previousRunId: (startedWallMs: number | null) => string | null; enforce: (() => void) | undefined },
): Promise<Attached> {
  const { runs, sampler, mounts, node } = ctx.stack;
  // The hierarchy that holds this container's own cgroup (its path names the container id), checked on disk.
  const pick = proc.procText !== null && mounts ? pickCgroup(proc.procText, mounts, { mustContain: facts.id }) : null;
  const paths = pick && 'paths' in pick ? pick.paths : null;
  // After /proc was read: a container that exits meanwhile keeps its cgroup paths.
  const who = await facts.identify({
    node,
    timeLimitSeconds: ctx.config.timeLimit,
    trustImageLabels: ctx.config.unsafeTrustImageLabels,
    gpuDevices: ctx.stack.gpu.devices(),
    migDevices: ctx.stack.gpu.migDevices?.() ?? [],
  });
  const clock = { wallMs: Date.now(), monoNs: monoNowNs() };
  const flags = [...who.flags];
  const runFacts: RunFacts = { ...who.facts };
  if (facts.createdBeforeStartSeconds !== null) runFacts.createdBeforeStartSeconds = facts.createdBeforeStartSeconds;
  if (pick && 'paths' in pick) {
    runFacts.cgroupMethod = factText(pick.method);
    ctx.stack.cgroupLayout.lastPicked = pick.method;
  }
  const noCgroupWhy = pick && 'reason' in pick ? pick.reason : null;
  if (!paths) flags.push(facts.running && proc.procText !== null && proc.alive() ? 'no-cgroup' : 'exited-before-attach');
  if (noCgroupWhy && proc.alive()) {
    flags.push('counter-unreadable');
    runFacts.countersUnreadable = addToFactList(undefined, noCgroupWhy);
  }
  // A runtime that gives no start time (containerd's listing): the run starts when it is seen.
  const startedAtNs = facts.startedAtNs ?? BigInt(clock.wallMs) * 1_000_000n;
  const startedMonoNs = epochNsToMonoNs(startedAtNs, clock);
  if (mode.how === 'late') {
    flags.push('attached-late');
    // To the ms, as the flag text once carried it (the mono clock's start is derived from the runtime's).
    if (facts.startedAtNs !== null) runFacts.attachedLateSeconds = Math.round((clock.monoNs - startedMonoNs) / 1e6) / 1e3;
  }
  if (facts.startedAtNs === null) flags.push('start-time-unknown');
  flags.push(...facts.flags);
  const previousRunId = opts.previousRunId(facts.startedAtNs === null ? null : Number(startedAtNs / 1_000_000n));
  const run = runs.start({
    identity: who.identity,
    reader: paths ? new CgroupReader(paths, { alive: proc.alive }) : nullReader,
    gpuKey: facts.id,
    startedWallMs: Number(startedAtNs / 1_000_000n),
    startedMonoNs,
    timeLimitSeconds: who.timeLimitSeconds,
    previousRunId,
    flags,
    facts: runFacts,
    // The run manager's deadline calls this once, after its last read of the counters.
    enforce: opts.enforce,
  });
  if (noCgroupWhy && proc.alive()) {
    // A living container whose counters no hierarchy holds: unknown figures, said loudly (the cgroup source is down).
    ctx.stack.counters.fail('cgroup', run.id, `counter-unreadable: ${noCgroupWhy}`);
  }
  const t = newTracked(facts.id, run.id, startedAtNs, startedMonoNs, facts.startedAtNs !== null);
  // The kernel's OOM-kill count from now on, to name an OOM kill the runtime's report misses.
  if (paths?.memory && facts.running) t.oomCount = new OomKillCount(paths.memory);
  sampler.sampleRunNow(run.id);
  const firstSampleLatencyMs = mode.how === 'event' && mode.start.timeNs !== null ? (monoNowNs() - epochNsToMonoNs(mode.start.timeNs, clock)) / 1e6 : null;
  const v2Dir = proc.procText !== null && mounts ? v2CgroupDir(proc.procText, mounts, facts.id) : null;
  t.cgroupDirs = [...new Set([v2Dir, paths?.cpu.dir, paths?.memory?.dir].filter((d): d is string => !!d))];
  if (v2Dir) {
    t.populated = watchPopulated(v2Dir, guarded(ctx.errors, 'exit-watch', () => {
      // The last process just exited; the cgroup still exists for a few ms: read the final counters.
      t.emptiedMonoNs = monoNowNs();
      sampler.sampleRunNow(t.runId);
      readOomCountAtEnd(t);
    }));
  }
  const logged = { runtime: who.identity.runtime, runId: run.id, containerId: facts.id, team: run.team, case: run.case, previousRunId };
  if (mode.how === 'missed') ctx.log.warn('run created from the runtime\'s record of a container no agent saw start', logged);
  else ctx.log.info('container attached', { ...logged, late: mode.how === 'late', firstSampleLatencyMs, exitWatch: t.populated ? 'cgroup.events' : 'ticks only' });
  return { tracked: t, firstSampleLatencyMs };
}
