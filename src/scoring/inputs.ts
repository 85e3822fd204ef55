// What the ranking ranks: accuracy values from an organiser's CSV (`team,case,metric,value`) and
// efficiency values from the stored runs, under a profile. Pure.
import { curveFigures } from '../core/auc.js';
import { pairKey, rankedAttempts, runPairKey } from './attempts.js';
import type { RunFilter, RunSample, ScoringRun } from '../core/types.js';
import type { ChallengeProfile } from './challenge-profile.js';
import { feedOf, joinFeeds, type MetricValue, type ValueFeed } from './rank.js';
import { AccuracyCsvError, AccuracyTable } from './accuracy-table.js';

export { AccuracyCsvError, EFFICIENCY_METRICS, parseAccuracyCsv, splitCsvLine, type AccuracyRow } from './accuracy-table.js';

/** Accuracy as the parser gives it (columns) or as rows (small files, tests). */
export type Accuracy = AccuracyTable | readonly (MetricValue & { line?: number })[];
const tableOf = (a: Accuracy): AccuracyTable => (a instanceof AccuracyTable ? a : AccuracyTable.fromRows(a));

/**
 * The accuracy rows checked against a profile and the runs ranked with them. Refused (thrown, naming
 * the line): a value outside its metric's `range`. Said (warnings): a metric the profile does not
 * rank (`dsc` for DSC is dropped, not "skipped"), and teams or cases that only one side has (a
 * typo, or a run that never happened: such a team would rank last where it has no values).
 */
export function checkAccuracy(accuracy: Accuracy, profile: ChallengeProfile, runs: readonly ScoringRun[]): string[] {
  const t = tableOf(accuracy);
  const metrics = new Map(profile.ranking.metrics.map((m) => [m.metric, m]));
  // Per metric of the file: its profile entry, and its first line (the warning names it).
  const byIndex = t.metrics.map((name) => metrics.get(name));
  const firstLine = new Map<number, number>();
  for (let i = 0; i < t.length; i++) {
    const m = byIndex[t.metric[i]];
    if (!m) {
      if (!firstLine.has(t.metric[i])) firstLine.set(t.metric[i], t.line[i]);
      continue;
    }
    const v = t.value[i];
    if (m.range && (v < m.range[0] || v > m.range[1])) throw new AccuracyCsvError(`line ${t.line[i]}: ${m.metric} ${v} is outside the profile's range [${m.range[0]}, ${m.range[1]}]`);
  }
  // The per-organ rows `accuracy --long` writes beside the ranked means (DSC_Liver …) are expected:
  // one line says they are not ranked, where a line per metric would bury the warnings that matter.
  const organ = new Set((profile.accuracy?.organs ?? []).flatMap((o) => [`DSC_${o.name}`, `NSD_${o.name}`]));
  const unranked = [...firstLine].filter(([mi]) => !organ.has(t.metrics[mi]));
  const perOrgan = firstLine.size - unranked.length;
  const warnings = unranked.map(([mi, line]) => `metric ${JSON.stringify(t.metrics[mi])} (first on line ${line}) is not ranked by profile ${profile.name}: its rows are ignored`);
  if (perOrgan > 0) warnings.push(`${perOrgan} per-organ metrics (${[...firstLine.keys()].map((mi) => t.metrics[mi]).find((m) => organ.has(m))} …) are not ranked by profile ${profile.name}, which ranks the means: their rows are ignored`);
  const finished = runs.filter((r) => r.status !== 'running');
  const oneSide = (what: string, csv: Set<string>, measured: Set<string>): void => {
    const onlyCsv = [...csv].filter((x) => !measured.has(x)).sort();
    const onlyRuns = [...measured].filter((x) => !csv.has(x)).sort();
    const list = (xs: string[]): string => xs.slice(0, 10).map((x) => JSON.stringify(x)).join(', ') + (xs.length > 10 ? ` and ${xs.length - 10} more` : '');
    if (onlyCsv.length > 0) warnings.push(`${what} in the accuracy CSV with no finished run: ${list(onlyCsv)}`);
    if (onlyRuns.length > 0 && t.length > 0) warnings.push(`${what} with finished runs and no accuracy row: ${list(onlyRuns)}`);
  };
  const present = (names: readonly string[], col: Uint32Array): Set<string> => {
    const seen = new Uint8Array(names.length);
    for (let i = 0; i < col.length; i++) seen[col[i]] = 1;
    return new Set(names.filter((_, i) => seen[i] === 1));
  };
  oneSide('teams', present(t.teams, t.team), new Set(finished.map((r) => r.team.normalize('NFC'))));
  oneSide('cases', present(t.cases, t.case_), new Set(finished.map((r) => r.case.normalize('NFC'))));
  return warnings;
}

/** Whether a filter narrows the runs at all (then accuracy rows are narrowed to them: accuracyOfRuns). */
export function filterActive(filter: RunFilter): boolean {
  return Object.values(filter).some((v) => v !== undefined);
}

/** The accuracy rows of the (team, case) pairs these runs measured: a filtered ranking ranks those only. */
export function accuracyOfRuns(accuracy: Accuracy, runs: readonly ScoringRun[]): AccuracyTable {
  const keep = new Set(runs.map(runPairKey));
  return tableOf(accuracy).narrowed((team, c) => keep.has(pairKey(team, c)));
}

/**
 * The efficiency values plus the accuracy rows, as one feed for the value table, with the profile's
 * rule for the accuracy of a failed case applied: under failedCaseAccuracy 'last', the DSC/NSD of a
 * (team, case) whose every ranked run failed or went over the limit rank last too; under 'count'
 * they rank as given.
 */
export function withAccuracy(efficiency: readonly MetricValue[], accuracy: Accuracy, profile: ChallengeProfile): ValueFeed {
  const ok = new Map<string, boolean>();
  for (const v of efficiency) {
    const k = pairKey(v.team, v.case);
    ok.set(k, (ok.get(k) ?? false) || !v.failed);
  }
  const last = profile.ranking.failedCaseAccuracy !== 'count';
  return joinFeeds(feedOf(efficiency), tableOf(accuracy).feed((team, c) => last && ok.get(pairKey(team, c)) === false));
}

/** A run that ended without a usable result: ranked last on every metric. */
const FAILED = new Set(['failed', 'oom', 'interrupted']);

type Finished<R extends ScoringRun> = R & { summary: NonNullable<ScoringRun['summary']> };

/**
 * The finished runs a ranking uses: per team and case the final verdict of the latest attempt, or
 * every attempt's as a repeat (attempts.ts: a run and its continuations are one attempt).
 */
export function rankedRuns<R extends ScoringRun>(runs: readonly R[], allRepeats = false): Finished<R>[] {
  return rankedAttempts(runs, allRepeats).filter((r): r is Finished<R> => r.summary !== null);
}

/** Over the profile's time limit (its own, not only the one the run was measured with): FLARE's worst values. */
export function overProfileLimit(s: NonNullable<ScoringRun['summary']>, profile: ChallengeProfile): boolean {
  return s.scoring.penalised || (profile.timeLimitSeconds !== null && s.wallSeconds > profile.timeLimitSeconds);
}

/**
 * The runs whose GPU figure must be integrated again from their trace: measured with another GPU
 * tolerance than the profile's, and not penalised (a penalty replaces the figure anyway).
 */
export function needsGpuAuc<R extends ScoringRun>(runs: readonly Finished<R>[], profile: ChallengeProfile): Finished<R>[] {
  return runs.filter((r) => !overProfileLimit(r.summary, profile) && r.summary.gpuToleranceMiB !== profile.gpuToleranceMiB);
}

/**
 * ∫ max(0, gpuMiB − tolerance) dt over a run's samples (MiB·s), the summary's own rule (trapezoids,
 * exact clipping, gaps count nothing); null when no sample has a GPU value.
 */
export function gpuAucAboveMiBs(samples: Iterable<RunSample>, toleranceMiB: number): number | null {
  return curveFigures(Array.from(samples, (s) => ({ tSeconds: s.monoNs / 1e9, value: s.gpuMiB })), toleranceMiB).area;
}

/**
 * Efficiency values (`time`, `aucGpu`, `aucCpu`) of the ranked runs (rankedRuns) under a profile.
 * Over the run's limit or the profile's: the profile's penalties. Failed, OOM or interrupted: marked
 * failed (worst values). GPU: the stored figure when the run was measured with the profile's
 * tolerance, else `gpuAucByRun` (run id → gpuAucAboveMiBs at the profile's tolerance), which the
 * caller fills for needsGpuAuc's runs. A GPU figure that is unknown gives no value, so that metric
 * falls back to the worst for that case, or is skipped when no team has it.
 */
export function efficiencyValues(runs: readonly ScoringRun[], profile: ChallengeProfile, allRepeats = false, gpuAucByRun: ReadonlyMap<string, number | null> = new Map()): MetricValue[] {
  const out: MetricValue[] = [];
  for (const r of rankedRuns(runs, allRepeats)) {
    const s = r.summary;
    const p = overProfileLimit(s, profile) ? profile.penalties : null;
    // Over the limit is a failure too: its penalty values are shown, but it ranks last (rank.ts lastOf).
    const failed = FAILED.has(r.status) || p !== null;
    // NFC: the accuracy CSV's names are compared in that form (parseAccuracyCsv).
    const base = { team: r.team.normalize('NFC'), case: r.case.normalize('NFC'), failed };
    out.push({ ...base, metric: 'time', value: p ? p.timeSeconds : s.scoring.timeSeconds });
    // An unreadable CPU counter leaves the figure unknown (null): the case is missing for that metric, not 0.
    const cpu = p ? p.aucCpuPctS : s.scoring.aucCpuPctS;
    if (cpu !== null) out.push({ ...base, metric: 'aucCpu', value: cpu });
    let gpu: number | null;
    if (p) gpu = p.aucGpuMiBs;
    else if (s.gpuToleranceMiB === profile.gpuToleranceMiB) gpu = s.scoring.aucGpuMiBs;
    else if (gpuAucByRun.has(r.id)) gpu = gpuAucByRun.get(r.id) ?? null;
    else throw new Error(`run ${r.id} was measured with a GPU tolerance of ${s.gpuToleranceMiB} MiB, the profile has ${profile.gpuToleranceMiB}: its trace must be integrated again (needsGpuAuc)`);
    if (gpu !== null) out.push({ ...base, metric: 'aucGpu', value: gpu });
  }
  return out;
}
