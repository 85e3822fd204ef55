// Runs an earlier agent process left 'running' (a crash, kill -9, a disk that refused the verdict):
// settled at start, before the sampler runs, through the one summarise path with the settings stored
// on each run's row. A container that ended meanwhile is settled from its runtime's own record (Docker's
// inspect: exit code, times, OOMKilled; containerd's task: exit status and time); a run is 'interrupted'
// only when nothing knows how it ended.
// Only runs whose writer process is gone are settled: a `profile --db` that still runs owns its run.
import type { ContainerRuntime, Run, RunStatus, TerminationReason } from '../core/types.js';
import type { Store } from '../store/index.js';
import { INTERRUPTED_PAST_LIMIT_FLAG } from '../core/summary.js';
import { factsOf, mergeFacts, type RunFacts, type RunFlag } from '../core/run-facts.js';
import { summariseRun } from './verdict.js';
import { thisWriter, writerAlive } from '../sources/writer.js';

/** How a target's own record says a run ended (e.g. Docker's inspect of its container). */
export interface Settlement {
  status: RunStatus;
  terminationReason: TerminationReason;
  exitCode: number | null;
  /** The target's own end on the run's monotonic clock, and on the wall clock (ms). */
  endedMonoNs: number;
  endedWallMs: number;
  wallSecondsOverride?: number;
  flags: RunFlag[];
  /** Facts the record adds (what named an OOM kill). */
  facts?: RunFacts;
}

/**
 * Asks the target's owner (its runtime's adapter) how a left-running run ended: a Settlement when it
 * ended in the same life, null when it still runs, vanished or cannot be asked.
 */
export type Settler = (run: Run) => Promise<Settlement | null>;

/** A runtime's answer within `ms`, else a rejection: recovery then treats that runtime as unreachable. */
export async function within<T>(ms: number, what: string, answer: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The flag of a run settled from its runtime's record (which runtime: the run's `runtime`). */
export const SETTLED_FLAG: RunFlag = 'settled-from-runtime-after-agent-stop';

/**
 * One settler per runtime: each run is asked of the runtime that made it (the run records it). A row
 * older than schema 8 records none; those were all made through Docker, and go to Docker. A run of a
 * runtime this agent does not attach to cannot be asked: interrupted.
 */
export function settleByRuntime(settlers: Partial<Record<ContainerRuntime, Settler>>): Settler {
  return async (run) => settlers[run.runtime ?? 'docker']?.(run) ?? null;
}
export const RECOVERED_FLAG: RunFlag = 'recovered-after-agent-stop';

export interface Recovered {
  run: Run;
  /** settled: from the target's record; interrupted: nothing knows its end; live: its writer still runs (left alone). */
  outcome: 'settled' | 'interrupted' | 'live';
  /** The writer (sources/writer.ts) of a run left alone. */
  writer?: string | null;
}

/**
 * Whether a run's writer is gone. A run written by this very process is gone too: at start-up this
 * process has no run in flight, so such a row was left by an earlier agent in the same process.
 */
export function writerGone(writer: string | null): boolean {
  return writer === null || writer === thisWriter() || !writerAlive(writer);
}

export async function recoverLeftRuns(store: Store, settle: Settler | null, isGone: (writer: string | null) => boolean = writerGone): Promise<Recovered[]> {
  const out: Recovered[] = [];
  for (const run of store.runningRuns()) {
    // Another live process writes it (`profile --db` beside the agent): its run, its verdict.
    const writer = store.runWriter(run.id);
    if (!isGone(writer)) {
      out.push({ run, outcome: 'live', writer });
      continue;
    }
    let settlement: Settlement | null = null;
    try {
      settlement = settle ? await settle(run) : null;
    } catch {
      settlement = null; // the target cannot be asked: what was stored is all there is
    }
    if (settlement) {
      out.push({ run: writeSettled(store, run, settlement, run.summary?.flags ?? []), outcome: 'settled' });
      continue;
    }
    const samples = store.getRunSamples(run.id);
    const last = samples.at(-1);
    const endedMonoNs = last?.monoNs ?? run.startedMonoNs;
    const endedWallMs = last?.wallMs ?? run.startedWallMs;
    const summary = summariseRun(run, samples, store.getNodeSamples(run.startedWallMs, endedWallMs), { status: 'interrupted', terminationReason: 'agent interrupted', exitCode: null, endedMonoNs, flags: [...(run.summary?.flags ?? []), RECOVERED_FLAG], facts: factsOf(run.summary) });
    store.finishRun(run.id, { status: summary.status, endedWallMs, endedMonoNs, summary });
    out.push({ run: { ...run, status: summary.status, endedWallMs, endedMonoNs, summary }, outcome: 'interrupted' });
  }
  return out;
}

/**
 * Writes a run's verdict from its runtime's record: its stored samples summarised through the one
 * summarise path to the runtime's end, with the flags it had (but the interrupted-by-recovery one).
 */
export function writeSettled(store: Store, run: Run, settlement: Settlement, previousFlags: readonly RunFlag[]): Run {
  const samples = store.getRunSamples(run.id);
  // The marks of the interrupted verdict go: the runtime's record replaces it.
  const flags = [...previousFlags.filter((f) => f !== RECOVERED_FLAG && f !== INTERRUPTED_PAST_LIMIT_FLAG), ...settlement.flags];
  // The run's facts (Docker's create and removal times, …) stay: they are the container's, not the verdict's.
  const facts = mergeFacts(factsOf(run.summary), settlement.facts ?? {});
  const summary = summariseRun(run, samples, store.getNodeSamples(run.startedWallMs, settlement.endedWallMs), { ...settlement, flags, facts });
  store.finishRun(run.id, { status: summary.status, endedWallMs: settlement.endedWallMs, endedMonoNs: settlement.endedMonoNs, summary });
  return { ...run, status: summary.status, endedWallMs: settlement.endedWallMs, endedMonoNs: settlement.endedMonoNs, summary };
}

/**
 * At most this many interrupted runs are asked about at one start, for at most this long: each may
 * wait for its runtime's timeout, and a start must not hang on an unreachable runtime (the rest are
 * asked at the next start).
 */
const MAX_STOPPED_ASKED = 32;
const STOPPED_ASK_BUDGET_MS = 10_000;

/**
 * Runs an earlier agent closed as interrupted (it was stopped, or recovery found no record then) whose
 * container has since ended in that same life: settled from the runtime's record, exactly as a run a
 * crash left running is, so a graceful stop leaves no worse a record than kill -9. Asked: the newest
 * interrupted run of each container, unless a later run of the container continues it (the new agent
 * found it running and linked it), newest first. `interrupted`: newest first, as the relink list.
 */
export async function settleStoppedRuns(store: Store, settle: Settler | null, interrupted: readonly Run[]): Promise<Run[]> {
  if (!settle) return [];
  const seen = new Set<string>();
  const out: Run[] = [];
  let asked = 0;
  const deadlineMs = Date.now() + STOPPED_ASK_BUDGET_MS;
  for (const run of interrupted) {
    if (Date.now() > deadlineMs) break;
    if (!run.containerId || seen.has(run.containerId)) continue;
    seen.add(run.containerId);
    if (store.hasContainerRunSince(run.containerId, run.startedWallMs, run.id)) continue;
    if (asked++ >= MAX_STOPPED_ASKED) break;
    const settlement = await settle(run).catch(() => null);
    if (settlement) out.push(writeSettled(store, run, settlement, run.summary?.flags ?? []));
  }
  return out;
}
