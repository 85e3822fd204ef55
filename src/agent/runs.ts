// Run lifecycle on the agent: start a run for a target, sample it on every tick, close it with a summary.
// Docker attachment and `profile` both drive runs through this one class, the ONE owner of every
// running run's state: its samples (the store only holds what it has committed), its flags, its
// time-limit deadline and enforcement, its dropped-sample count.
import { randomBytes } from 'node:crypto';
import { migUuidsOfDevices } from '../core/attribution.js';
import { enforceAtMonoNs, exceededAtMonoNs } from '../core/limit.js';
import type { Run, RunSample } from '../core/types.js';
import { addToFactList, factsOf, MAX_FACT_LIST, mergeFacts, type RunFacts, type RunFlag } from '../core/run-facts.js';
import type { Store } from '../store/index.js';
import { monoNowNs } from '../clock/ticker.js';
import { ownTimer, type Every } from '../clock/rides.js';
import { inlineSummariser, type Summariser } from './summary-thread.js';
import type { RunningSummary } from '../core/running-summary.js';
import { runningSummaryOf, summariseRunning, type Verdict } from './verdict.js';
import type { GpuShare, RunEndSpec, RunSettings, RunStartSpec } from './run-spec.js';
import type { LiveRun } from './types.js';
import { runDeviceMiB } from '../core/device-figure.js';
import type { GpuRunHooks } from '../gpu/run-gpu.js';
import { guarded, type ErrorSink } from './errors.js';

interface ActiveRun {
  run: Run;
  spec: RunStartSpec;
  samples: RunSample[];
  gpuIndicesUsed: Set<number>;
  gpuByIndex: Record<number, number | null>;
  /** Per device (core/attribution.ts deviceKey: a GPU, or a GPU's MIG device), for /metrics. */
  gpuByDevice: Record<string, number | null>;
  /** MIG devices its processes have appeared in (their memory is the run's device-level figure). */
  migsUsed: Set<string>;
  limitFired: boolean;
  limitTimer: NodeJS.Timeout | null;
  lastPartialMonoNs: number;
  /** Its summary so far, folded in as samples come (partial summaries: core/running-summary.ts). */
  running: RunningSummary;
  /** The accumulator could not tell its last partial summary (past the limit): they come from the whole trace. */
  partialFromTrace: boolean;
  flags: Set<RunFlag>;
  /** Its facts so far (from the start spec, then what sampling and enforcement find). */
  facts: RunFacts;
  /** Samples of this run the store's full queue dropped before they were written. */
  droppedSamples: number;
}

const NO_MIG: ReadonlyMap<string, number | null> = new Map();

export function newRunId(startedWallMs: number): string {
  return `${startedWallMs.toString(36)}-${randomBytes(5).toString('hex')}`;
}

/**
 * Samples per second of interval between two partial summaries of one run made from its whole trace
 * (a run past its time limit: its accumulator cannot cut its figures there). Such a summary is
 * O(samples) (~1 µs each, plus ~0.5 ms to hand the trace over), so a fixed interval costs more the
 * longer a run lives: at 1 s per 2 000 samples an hour-long run took 0.2 % of a core for ever, ten of
 * them 2 %. At 1 s per 200 samples it stays near 0.01 % of a core. A partial summary from the
 * accumulator costs only the samples since the last one, so those come at the base interval.
 */
const PARTIAL_SUMMARY_SAMPLES_PER_SECOND = 200;

/** The least time (ns) between two partial summaries of a run holding `samples` samples. */
export function partialSummaryIntervalNs(everyMs: number, samples: number): number {
  return Math.max(everyMs * 1e6, (samples / PARTIAL_SUMMARY_SAMPLES_PER_SECOND) * 1e9);
}

export class RunManager {
  private readonly active = new Map<string, ActiveRun>();
  /** Reads one run now with fresh GPU figures (the sampler's); until set, without GPU figures. */
  private sampleNowFn: (runId: string) => void = (runId) => this.sampleNow(runId, null, new Map());
  /** Cancels the partial summaries' schedule; null while they are not scheduled. */
  private stopPartials: (() => void) | null = null;
  private partialInFlight = false;
  /** Verdicts whose summary is being computed: shutdown waits for them (drain). */
  private readonly finishing = new Set<Promise<Run>>();
  /** Facts seen after the end of runs whose summary is being computed (noteRemoved), joined to it when it comes back. */
  private readonly lateFacts = new Map<string, RunFacts>();
  private readonly summariser: Summariser;

  constructor(
    private readonly store: Store,
    readonly settings: RunSettings,
    private readonly onFinished: (run: Run) => void = () => {},
    /** A counter of a live run could not be read (told once per run and text: `<path>: <errno>`); cleared when it ends. */
    private readonly onUnreadable: (run: Run, text: string | null) => void = () => {},
    /** GPU counters read at the run's start and end (accounting peak, energy, sharing: docs/gpu-accounting.md). */
    private readonly gpuHooks: GpuRunHooks | null = null,
    /** Where summaries are computed (the daemon: a thread, off the sampler's loop); default here. */
    summariser?: Summariser,
  ) {
    this.summariser = summariser ?? inlineSummariser(store);
  }

  /** The sampler gives the run manager its "read this run now" (fresh GPU figures first). */
  setSampleNow(fn: (runId: string) => void): void {
    this.sampleNowFn = fn;
  }

  /**
   * Partial summaries of running runs, so readers see figures while a run lasts: scheduled by `every`
   * (the daemon's: after a tick, never inside one; default: a timer of their own). Crash recovery does
   * not depend on them.
   */
  startPartialSummaries(everyMs = 1000, errors: ErrorSink | null = null, every: Every = ownTimer): void {
    if (this.stopPartials) return;
    this.stopPartials = every(everyMs, guarded(errors, 'summary', () => this.refreshOnePartialSummary()));
  }

  stopPartialSummaries(): void {
    this.stopPartials?.();
    this.stopPartials = null;
  }

  start(spec: RunStartSpec): Run {
    const id = newRunId(spec.startedWallMs);
    const run: Run = {
      ...spec.identity,
      id,
      status: 'running',
      startedWallMs: spec.startedWallMs,
      startedMonoNs: spec.startedMonoNs,
      endedWallMs: null,
      endedMonoNs: null,
      timeLimitSeconds: spec.timeLimitSeconds,
      nCpu: this.settings.nCpu,
      intervalMs: this.settings.intervalMs,
      previousRunId: spec.previousRunId ?? null,
      summary: null,
      settings: { gpuToleranceMiB: this.settings.gpuToleranceMiB, penalties: this.settings.penalties },
    };
    this.store.createRun(run);
    const a: ActiveRun = {
      run,
      spec,
      samples: [],
      gpuIndicesUsed: new Set(),
      gpuByIndex: {},
      gpuByDevice: {},
      migsUsed: new Set(),
      limitFired: false,
      limitTimer: null,
      lastPartialMonoNs: spec.startedMonoNs,
      running: runningSummaryOf(run),
      partialFromTrace: false,
      flags: new Set(spec.flags ?? []),
      facts: { ...spec.facts },
      droppedSamples: 0,
    };
    this.active.set(id, a);
    this.gpuHooks?.started(id, spec.gpuKey, run.gpuDevices, spec.startedWallMs);
    this.armLimit(a);
    return run;
  }

  /**
   * The one time-limit detector: a timer of the run's own at its deadline (never nested in a tick).
   * It re-arms when a timer fires early, then reads the run one last time and calls the target's
   * enforce hook, once.
   */
  private armLimit(a: ActiveRun): void {
    const dueMonoNs = enforceAtMonoNs(a.run.startedMonoNs, a.run.timeLimitSeconds);
    if (dueMonoNs === null || !a.spec.enforce) return;
    const arm = (): void => {
      a.limitTimer = null;
      if (a.limitFired || this.active.get(a.run.id) !== a) return;
      const now = monoNowNs();
      if (now < dueMonoNs || !exceededAtMonoNs(a.run.startedMonoNs, now, a.run.timeLimitSeconds)) {
        a.limitTimer = setTimeout(arm, Math.min(Math.max(1, (dueMonoNs - now) / 1e6), 2 ** 31 - 1));
        a.limitTimer.unref();
        return;
      }
      a.limitFired = true;
      this.sampleNowFn(a.run.id); // the counters at the limit, before anything is killed
      a.spec.enforce?.(a.run);
    };
    arm();
  }

  /** Whether the run's time limit has been enforced. */
  limitEnforced(runId: string): boolean {
    return this.active.get(runId)?.limitFired ?? false;
  }

  /** The store's full queue dropped n of this run's samples (its fact samplesDropped, flagged). */
  noteDropped(runId: string, n: number): void {
    const a = this.active.get(runId);
    if (a) a.droppedSamples += n;
  }

  has(runId: string): boolean {
    return this.active.has(runId);
  }

  activeRuns(): Run[] {
    return [...this.active.values()].map((a) => a.run);
  }

  /** A flag (and the facts behind it) for a running run, e.g. from enforcement. */
  addFlag(runId: string, flag: RunFlag, facts: RunFacts = {}): void {
    const a = this.active.get(runId);
    if (!a) return;
    a.flags.add(flag);
    a.facts = mergeFacts(a.facts, facts);
  }

  /** Samples every active run now. gpu: per key shares, or null when no GPU source is active. */
  sampleAll(gpu: Map<string, GpuShare> | null, deviceUsedMiB: Map<number, number | null>, wallMs: number, migUsedMiB: ReadonlyMap<string, number | null> = NO_MIG): void {
    for (const a of this.active.values()) this.sampleOne(a, gpu, deviceUsedMiB, wallMs, migUsedMiB);
  }

  /**
   * Refreshes the partial summary of at most one running run per call (the most overdue), so that
   * many runs never stall the loop together: from its accumulator, here and now (the samples since its
   * last one), or, where the accumulator cannot tell, from its whole trace on the summariser. Crash
   * recovery does not depend on it: the next agent recomputes the summary from the stored samples.
   */
  refreshOnePartialSummary(): void {
    if (this.partialInFlight) return;
    const now = monoNowNs();
    let due: ActiveRun | null = null;
    let dueByNs = 0;
    for (const a of this.active.values()) {
      const everyNs = partialSummaryIntervalNs(this.settings.partialSummaryEveryMs, a.partialFromTrace ? a.samples.length : 0);
      const overdueNs = now - a.lastPartialMonoNs - everyNs;
      if (overdueNs >= 0 && (due === null || overdueNs > dueByNs)) {
        due = a;
        dueByNs = overdueNs;
      }
    }
    if (!due) return;
    due.lastPartialMonoNs = now;
    const a = due;
    const gpu = this.gpuHooks?.readings(a.run.id, false, [...a.gpuIndicesUsed], null);
    const verdict: Verdict = { status: 'running', terminationReason: null, exitCode: null, endedMonoNs: null, flags: this.flagsOf(a), gpu, facts: this.factsOf(a) };
    a.running.addFrom(a.samples);
    const summary = summariseRunning(a.run, a.running, verdict);
    a.partialFromTrace = summary === null;
    if (summary) {
      this.store.updateRunningSummary(a.run.id, summary);
      return;
    }
    this.partialInFlight = true;
    // Partial figures are best effort and off the tick: the chain below handles every outcome.
    void this.summariser
      .summarise({ run: a.run, samples: a.samples, nodeSpan: null, verdict })
      .then((summary) => {
        // A run that ended meanwhile has its final summary: a late partial one must not replace it.
        if (this.active.get(a.run.id) === a) this.store.updateRunningSummary(a.run.id, summary);
      })
      .catch(() => undefined) // partial figures are best effort; the final summary does not depend on them
      .finally(() => {
        this.partialInFlight = false;
      });
  }

  private flagsOf(a: ActiveRun): RunFlag[] {
    const flags = [...a.flags];
    if (a.droppedSamples > 0) flags.push('samples-dropped');
    return flags;
  }

  private factsOf(a: ActiveRun): RunFacts {
    return a.droppedSamples > 0 ? { ...a.facts, samplesDropped: a.droppedSamples } : a.facts;
  }

  /**
   * A counter that failed while the run lives: flagged, its text kept as a fact, the health told once
   * per text (not at the final read: the run's health entry is cleared right after).
   */
  private noteUnreadable(a: ActiveRun, texts: readonly string[] | undefined, tell = true): void {
    for (const text of texts ?? []) {
      const known = a.facts.countersUnreadable ?? [];
      // Past the fact's bound a new text is neither kept nor told: telling it at every tick would spam the log.
      if (known.includes(text) || known.length >= MAX_FACT_LIST) continue;
      if (tell) this.onUnreadable(a.run, text);
      a.flags.add('counter-unreadable');
      a.facts = { ...a.facts, countersUnreadable: addToFactList(known, text) };
    }
  }

  /** Samples one run immediately (e.g. on cgroup.events "populated 0", or just before a kill). */
  sampleNow(runId: string, gpu: Map<string, GpuShare> | null, deviceUsedMiB: Map<number, number | null>, migUsedMiB: ReadonlyMap<string, number | null> = NO_MIG): void {
    const a = this.active.get(runId);
    if (a) this.sampleOne(a, gpu, deviceUsedMiB, Date.now(), migUsedMiB);
  }

  private sampleOne(a: ActiveRun, gpu: Map<string, GpuShare> | null, deviceUsedMiB: Map<number, number | null>, wallMs: number, migUsedMiB: ReadonlyMap<string, number | null>): void {
    const reading = a.spec.reader.read();
    const monoNs = monoNowNs();
    if (reading.gone) return; // target ended: nothing to record
    // A counter that failed while the target lives is unknown (null in the sample), flagged, never 0.
    this.noteUnreadable(a, reading.unreadable);
    if (reading.cpuSeconds === null && reading.ramMiB === null && !reading.unreadable) return; // no counters (nullReader)
    let gpuMiB: number | null = null;
    if (gpu && a.spec.gpuKey !== null) {
      const share = gpu.get(a.spec.gpuKey);
      // No process of this run on any GPU is a real 0 MiB, not an unknown.
      gpuMiB = share ? share.totalMiB : 0;
      a.gpuByIndex = share ? share.byIndex : {};
      a.gpuByDevice = share ? share.byDevice : {};
      if (share) for (const uuid of migUuidsOfDevices(share.byDevice)) a.migsUsed.add(uuid);
      if (share) for (const i of share.gpuIndices) a.gpuIndicesUsed.add(i);
      if (share && share.totalMiB === null) a.flags.add('gpu-unavailable');
    }
    const sample: RunSample = {
      monoNs,
      wallMs,
      cpuSeconds: reading.cpuSeconds,
      ramMiB: reading.ramMiB,
      gpuMiB,
      gpuDeviceMiB: runDeviceMiB({ placement: a.run.placement, gpusUsed: a.gpuIndicesUsed, migsUsed: a.migsUsed }, deviceUsedMiB, migUsedMiB),
    };
    a.samples.push(sample);
    this.store.appendRunSample(a.run.id, sample);
  }

  /**
   * Closes a run: a last counter read (at once), then the summary over everything sampled (the one
   * summarise path, computed by the summariser), then its verdict, committed on its own by the store
   * and retried until it lands. Resolves with the finished run; undefined when the run is not active.
   */
  finish(runId: string, end: RunEndSpec): Promise<Run | undefined> {
    const a = this.active.get(runId);
    if (!a) return Promise.resolve(undefined);
    // Where the cgroup outlives its processes (profile's own cgroup) this read is the exact final counter:
    // it cannot grow after the processes ended, so it is placed at the end.
    const final = a.spec.reader.read();
    this.noteUnreadable(a, final.unreadable, false);
    const finalCpu = final.cpuSeconds !== null ? { monoNs: Math.max(end.endedMonoNs, lastMono(a)), cpuSeconds: final.cpuSeconds } : undefined;
    if (finalCpu) a.flags.add('final-counter-read');
    a.spec.reader.close();
    if (a.limitTimer) clearTimeout(a.limitTimer);
    this.active.delete(runId);
    this.onUnreadable(a.run, null);
    // The node samples of its span (the official block's host CPU): written first, when the disk allows.
    try {
      this.store.flush();
    } catch {
      a.flags.add('node-samples-incomplete'); // the store reports the failure and keeps them queued
    }
    // Accounting peak, energy and sharing (docs/gpu-accounting.md), read now, at the run's end.
    const gpu = this.gpuHooks?.readings(a.run.id, true, [...a.gpuIndicesUsed], end.endedWallMs);
    this.gpuHooks?.ended(runId);
    const verdict = {
      status: end.status,
      terminationReason: end.terminationReason,
      exitCode: end.exitCode,
      endedMonoNs: end.endedMonoNs,
      wallSecondsOverride: end.wallSecondsOverride,
      finalCpu,
      flags: [...this.flagsOf(a), ...(end.flags ?? [])],
      gpu,
      facts: mergeFacts(this.factsOf(a), end.facts ?? {}),
    };
    this.lateFacts.set(runId, {});
    const done = this.summariser
      .summarise({ run: a.run, samples: a.samples, nodeSpan: { fromWallMs: a.run.startedWallMs, toWallMs: end.endedWallMs }, verdict })
      .catch((err: Error) => {
        this.lateFacts.delete(runId);
        throw err;
      })
      .then((measured) => {
        const late = factsOf(this.lateFacts.get(runId));
        this.lateFacts.delete(runId);
        const summary = { ...measured, ...late };
        this.store.finishRun(runId, { status: summary.status, endedWallMs: end.endedWallMs, endedMonoNs: end.endedMonoNs, summary });
        const run: Run = { ...a.run, status: summary.status, endedWallMs: end.endedWallMs, endedMonoNs: end.endedMonoNs, summary };
        this.onFinished(run);
        return run;
      });
    this.finishing.add(done);
    // Only bookkeeping: the caller has `done` itself, and drain() waits on `finishing`.
    void done.finally(() => this.finishing.delete(done)).catch(() => undefined);
    return done;
  }

  /**
   * The runtime removed the container of an ended run (Docker's `destroy`), this long after its end:
   * joined to the verdict when that is still being summarised, else written to the stored run in one
   * store call. The official span model reads it (docs/scoring.md).
   */
  noteRemoved(runId: string, removedAfterEndSeconds: number): void {
    const pending = this.lateFacts.get(runId);
    if (pending) pending.removedAfterEndSeconds = removedAfterEndSeconds;
    else if (!this.active.has(runId)) this.store.addRunFacts(runId, { removedAfterEndSeconds });
  }

  /** Waits until every verdict handed to the summariser has been written (or has failed). */
  async drain(): Promise<void> {
    while (this.finishing.size > 0) await Promise.allSettled([...this.finishing]);
  }

  live(nowMonoNs: number): LiveRun[] {
    return [...this.active.values()].map((a) => {
      const last = a.samples.at(-1) ?? null;
      const prev = a.samples.at(-2) ?? null;
      let cpuCorePct: number | null = null;
      if (last && prev && last.cpuSeconds !== null && prev.cpuSeconds !== null && last.monoNs > prev.monoNs) {
        cpuCorePct = (100 * (last.cpuSeconds - prev.cpuSeconds)) / ((last.monoNs - prev.monoNs) / 1e9);
      }
      const gpuForeignProcesses = this.gpuHooks?.foreignNow?.(a.run.id, [...a.gpuIndicesUsed]) ?? {};
      return { run: a.run, last, cpuCorePct, gpuMiBByIndex: a.gpuByIndex, gpuMiBByDevice: a.gpuByDevice, gpuForeignProcesses, elapsedSeconds: (nowMonoNs - a.run.startedMonoNs) / 1e9 };
    });
  }

  /** Samples of an active run (for the web page's live view); undefined when not active. */
  samplesOf(runId: string): readonly RunSample[] | undefined {
    return this.active.get(runId)?.samples;
  }

  /** Ends every active run as interrupted (agent shutting down) and waits for every verdict. */
  async interruptAll(): Promise<void> {
    this.stopPartialSummaries();
    const nowMono = monoNowNs();
    const nowWall = Date.now();
    for (const id of [...this.active.keys()]) {
      // Each verdict lands in `finishing`; drain() below waits for all of them.
      void this.finish(id, { status: 'interrupted', terminationReason: 'agent interrupted', exitCode: null, endedWallMs: nowWall, endedMonoNs: nowMono });
    }
    await this.drain();
  }
}

function lastMono(a: ActiveRun): number {
  return a.samples.at(-1)?.monoNs ?? a.run.startedMonoNs;
}
