// Which run of a (team, case) a ranking ranks. Pure.
//
// One container life is one attempt, however many runs the agent stored for it: an agent restarted
// while the container ran leaves an `interrupted` run A and a continuation B that names A as its
// previousRunId, both with the container's own start time (Docker's StartedAt). Ranking "the latest
// run" by start time and then by id put A or B first by the random hex of their ids: half the teams
// of a restart were ranked on an interrupted run (issue 36). So runs are grouped into attempts first
// (previousRunId chains), each attempt is represented by its final verdict (the run no other run
// continues), and the latest attempt per team and case (names compared in Unicode NFC, as the
// accuracy CSV's are) is ranked.
import type { ScoringRun } from '../core/types.js';

/** One key per (team, case), unambiguous whatever the names hold (the first one's length leads). */
export const pairKey = (team: string, c: string): string => `${team.length}:${team}${c}`;

/** The (team, case) of a run in the form identities are compared in: NFC. */
export const runPairKey = (r: Pick<ScoringRun, 'team' | 'case'>): string => pairKey(r.team.normalize('NFC'), r.case.normalize('NFC'));

/** A verdict that the runtime settled beats one the agent could not see (`interrupted`) between branches. */
const settledFirst = (r: ScoringRun): number => (r.status === 'interrupted' ? 0 : 1);

/**
 * Orders two candidates for "the one that counts", larger wins: later start, then a settled verdict
 * over an interrupted one, then the id's code units (only two runs of one container start at one
 * millisecond with one kind of verdict; the rule just has to be the same on every read).
 */
function later(a: ScoringRun, b: ScoringRun): boolean {
  if (a.startedWallMs !== b.startedWallMs) return a.startedWallMs > b.startedWallMs;
  if (settledFirst(a) !== settledFirst(b)) return settledFirst(a) > settledFirst(b);
  return a.id > b.id;
}

export interface Attempt<R extends ScoringRun> {
  /** When the attempt began: its first run's start. */
  startedWallMs: number;
  /** Its final verdict: the run that no other run (of those given) continues. */
  final: R;
}

/**
 * The attempts among `runs`: runs joined by previousRunId (a chain whose earlier run is not among
 * them starts at the first that is). A chain that forks (two runs naming one previous run: not
 * written by the agent, but possible in a database merged by hand) ends at the later fork.
 */
export function attemptsOf<R extends ScoringRun>(runs: readonly R[]): Attempt<R>[] {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const continued = new Set<string>();
  for (const r of runs) if (r.previousRunId !== null && byId.has(r.previousRunId)) continued.add(r.previousRunId);
  // Each chain's root, found by walking back (bounded by the run count: a cycle cannot loop).
  const rootOf = (r: R): R => {
    let cur = r;
    for (let steps = 0; steps < runs.length; steps++) {
      const prev = cur.previousRunId === null ? undefined : byId.get(cur.previousRunId);
      if (!prev || prev === r) break;
      cur = prev;
    }
    return cur;
  };
  const byRoot = new Map<string, Attempt<R>>();
  for (const r of runs) {
    if (continued.has(r.id)) continue; // not a final verdict
    const root = rootOf(r);
    const prev = byRoot.get(root.id);
    if (!prev || later(r, prev.final)) byRoot.set(root.id, { startedWallMs: root.startedWallMs, final: r });
  }
  return [...byRoot.values()];
}

/**
 * The final verdicts to rank: per (team, case) the latest attempt whose final run has ended, or
 * with `allRepeats` every ended attempt (each a repeat). An attempt still running is not ranked
 * yet, and its interrupted first run does not stand in for it.
 */
export function rankedAttempts<R extends ScoringRun>(runs: readonly R[], allRepeats: boolean): R[] {
  const ended = attemptsOf(runs).filter((a) => a.final.status !== 'running');
  if (allRepeats) return ended.map((a) => a.final);
  const latest = new Map<string, Attempt<R>>();
  for (const a of ended) {
    const k = runPairKey(a.final);
    const prev = latest.get(k);
    if (!prev || a.startedWallMs > prev.startedWallMs || (a.startedWallMs === prev.startedWallMs && later(a.final, prev.final))) latest.set(k, a);
  }
  return [...latest.values()].map((a) => a.final);
}
