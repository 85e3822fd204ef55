// Runs closed with an end the runtime could not confirm (its record unreadable at the exit: Docker
// shutting down between `die` and the inspect, so the end is the event's time, ~20 ms off). After the
// next reconnect the runtime's record is read again and the run's verdict is written from it, through
// the same path recovery uses (agent/recover.ts writeSettled), flagged `end-corrected-from-runtime-record`
// (an OOM named by the record instead: the fact oomNamedBy). One store write: the corrected verdict.
import { writeSettled } from '../agent/recover.js';
import { rememberBounded } from '../core/bounded-map.js';
import type { ContainerRuntime } from '../core/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import type { Run } from '../core/types.js';
import type { GapOutcome } from './adapter.js';
import { endVerdict, type EndVerdict } from './end.js';

const MAX_PROVISIONAL = 512;

interface Provisional {
  runId: string;
  /** The runtime's start of the container's life (epoch ns). */
  startedAtNs: bigint;
  /** The provisional verdict's write (the correction replaces it, so it goes after). */
  written: Promise<void>;
  /** What is in doubt: the end time (taken from the event), or an exit 137 no source named an OOM. */
  why: 'end-time' | 'oom';
}

export class ProvisionalEnds {
  private readonly pending = new Map<string, Provisional>();

  constructor(private readonly store: Store, private readonly runtime: ContainerRuntime, private readonly log: Logger) {}

  remember(containerId: string, p: Provisional): void {
    rememberBounded(this.pending, containerId, p, MAX_PROVISIONAL);
  }

  containerIds(): string[] {
    return [...this.pending.keys()];
  }

  /** Reads the runtime's record of one container again; a confirmed end of the same life corrects its run. */
  async correct(containerId: string, afterGap: (containerId: string, startedAtNs: bigint) => Promise<GapOutcome>): Promise<void> {
    const p = this.pending.get(containerId);
    if (!p) return;
    await p.written;
    const outcome = await afterGap(containerId, p.startedAtNs);
    // Still unreadable: asked again after the next reconnect. Gone or restarted: nothing more to learn.
    if ('ended' in outcome && outcome.ended.provisional) return;
    this.pending.delete(containerId);
    if (!('ended' in outcome) || outcome.ended.finishedAtNs === null || outcome.ended.finishedAtNs < p.startedAtNs) return;
    const run = this.store.getRun(p.runId);
    if (!run || run.status === 'running' || !run.summary) return;
    const end = outcome.ended;
    // An exit 137 asked again: only an OOM the record now names changes the verdict.
    if (p.why === 'oom' && (!end.oomKilled || run.status === 'oom')) return;
    const spanNs = end.finishedAtNs! - p.startedAtNs;
    const before = run.summary.wallSeconds;
    const corrected = writeSettled(this.store, run, {
      ...settledVerdictOf(run, end.exitCode, end.oomKilled),
      endedMonoNs: run.startedMonoNs + Number(spanNs),
      endedWallMs: Number(end.finishedAtNs! / 1_000_000n),
      wallSecondsOverride: Number(spanNs) / 1e9,
      flags: p.why === 'oom' ? [] : ['end-corrected-from-runtime-record'],
      facts: p.why === 'oom' ? { oomNamedBy: end.oomNamedBy ?? 'runtime-record' } : {},
    }, run.summary.flags.filter((f) => f !== 'finished-at-from-event'));
    this.log.warn('run end corrected from the runtime\'s record', { runtime: this.runtime, runId: run.id, containerId, wallSecondsBefore: before, wallSeconds: corrected.summary?.wallSeconds, status: corrected.status });
  }
}

/** A finished run's verdict again with the runtime's exit code and OOM verdict; who ended it (the agent's kill, someone else's) is kept. */
function settledVerdictOf(run: Run, exitCode: number | null, oomKilled: boolean): EndVerdict {
  const reason = run.summary?.terminationReason;
  return endVerdict({
    exitCode: exitCode ?? run.summary?.exitCode ?? null,
    oomKilled: oomKilled || run.status === 'oom',
    sawOom: false,
    killedByAgent: reason === 'killed at time limit',
    killedExternally: reason === 'killed externally',
  });
}
