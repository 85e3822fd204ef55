// What the ranking ranks: accuracy values from an organiser's CSV (`team,case,metric,value`) and
// efficiency values from the stored runs, under a profile. Pure.
import { curveFigures } from '../core/auc.js';
import { isDecimal } from '../core/text.js';
import { pairKey, rankedAttempts, runPairKey } from './attempts.js';
import type { RunSample, ScoringRun } from '../core/types.js';
import type { ChallengeProfile } from './profile.js';
import type { MetricValue } from './rank.js';
import type { RunFilter } from '../store/types.js';

/** A malformed accuracy CSV; the message names the line and the field. */
export class AccuracyCsvError extends Error {}

const MAX_ROWS = 1_000_000;
const MAX_FIELD_CHARS = 200;

/** One CSV line into fields: RFC 4180 quotes ("" inside quotes), linear scan, no regex. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.length === 0) quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

function name(v: string, line: number, what: string): string {
  const s = v.trim();
  if (s.length === 0 || s.length > MAX_FIELD_CHARS) throw new AccuracyCsvError(`line ${line}: ${what} must be 1 to ${MAX_FIELD_CHARS} characters`);
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20 || s.charCodeAt(i) === 0x7f) throw new AccuracyCsvError(`line ${line}: ${what} has a control character`);
  return s;
}

/** The metrics the runs give (efficiencyValues): an accuracy CSV must not hold them. */
export const EFFICIENCY_METRICS = ['time', 'aucGpu', 'aucCpu'] as const;

/** One accuracy value with the line it came from (for the messages). */
export type AccuracyRow = MetricValue & { line: number };

/**
 * Parses `team,case,metric,value` (header required, any order of those four columns), in one pass
 * (linear in the rows). Refused, naming the line: a value that is not a plain decimal number
 * (`0x1`, `NaN`, empty), a metric the runs give (time, aucGpu, aucCpu: the measured values would be
 * mixed with typed ones), a second row for one team, case and metric (naming both lines: averaging
 * them would hide a mistake). Team and case names are compared after Unicode NFC normalisation, so
 * one name typed in two forms is one team.
 */
export function parseAccuracyCsv(text: string): AccuracyRow[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const col = (h: string): number => {
    const i = header.indexOf(h);
    if (i < 0) throw new AccuracyCsvError(`line 1: header must name team, case, metric and value (missing ${h})`);
    return i;
  };
  const [ti, ci, mi, vi] = [col('team'), col('case'), col('metric'), col('value')];
  const efficiency = new Set(EFFICIENCY_METRICS.map((m) => m.toLowerCase()));
  const firstLine = new Map<string, number>();
  const out: AccuracyRow[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (lines[n].trim() === '') continue;
    if (out.length >= MAX_ROWS) throw new AccuracyCsvError(`more than ${MAX_ROWS} rows`);
    const line = n + 1;
    const f = splitCsvLine(lines[n]);
    const raw = (f[vi] ?? '').trim();
    const value = isDecimal(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(value)) throw new AccuracyCsvError(`line ${line}: value must be a finite number, got ${JSON.stringify(raw.slice(0, 40))}`);
    const row: AccuracyRow = { team: name(f[ti] ?? '', line, 'team').normalize('NFC'), case: name(f[ci] ?? '', line, 'case').normalize('NFC'), metric: name(f[mi] ?? '', line, 'metric'), value, line };
    if (efficiency.has(row.metric.toLowerCase())) throw new AccuracyCsvError(`line ${line}: metric ${row.metric} is measured from the runs, not read from an accuracy CSV`);
    const k = JSON.stringify([row.team, row.case, row.metric]);
    const first = firstLine.get(k);
    if (first !== undefined) throw new AccuracyCsvError(`line ${line}: a second ${row.metric} for team ${JSON.stringify(row.team)}, case ${JSON.stringify(row.case)} (first on line ${first})`);
    firstLine.set(k, line);
    out.push(row);
  }
  return out;
}

/**
 * The accuracy rows checked against a profile and the runs ranked with them. Refused (thrown, naming
 * the line): a value outside its metric's `range`. Said (warnings): a metric the profile does not
 * rank (`dsc` for DSC is dropped, not "skipped"), and teams or cases that only one side has (a
 * typo, or a run that never happened: such a team would rank last where it has no values).
 */
export function checkAccuracy(rows: readonly AccuracyRow[], profile: ChallengeProfile, runs: readonly ScoringRun[]): string[] {
  const metrics = new Map(profile.ranking.metrics.map((m) => [m.metric, m]));
  const unknown = new Map<string, number>();
  for (const r of rows) {
    const m = metrics.get(r.metric);
    if (!m) {
      if (!unknown.has(r.metric)) unknown.set(r.metric, r.line);
      continue;
    }
    if (m.range && (r.value < m.range[0] || r.value > m.range[1])) throw new AccuracyCsvError(`line ${r.line}: ${r.metric} ${r.value} is outside the profile's range [${m.range[0]}, ${m.range[1]}]`);
  }
  const warnings = [...unknown].map(([metric, line]) => `metric ${JSON.stringify(metric)} (first on line ${line}) is not ranked by profile ${profile.name}: its rows are ignored`);
  const finished = runs.filter((r) => r.status !== 'running');
  const oneSide = (what: string, csv: Set<string>, measured: Set<string>): void => {
    const onlyCsv = [...csv].filter((x) => !measured.has(x)).sort();
    const onlyRuns = [...measured].filter((x) => !csv.has(x)).sort();
    const list = (xs: string[]): string => xs.slice(0, 10).map((x) => JSON.stringify(x)).join(', ') + (xs.length > 10 ? ` and ${xs.length - 10} more` : '');
    if (onlyCsv.length > 0) warnings.push(`${what} in the accuracy CSV with no finished run: ${list(onlyCsv)}`);
    if (onlyRuns.length > 0 && rows.length > 0) warnings.push(`${what} with finished runs and no accuracy row: ${list(onlyRuns)}`);
  };
  oneSide('teams', new Set(rows.map((r) => r.team)), new Set(finished.map((r) => r.team.normalize('NFC'))));
  oneSide('cases', new Set(rows.map((r) => r.case)), new Set(finished.map((r) => r.case.normalize('NFC'))));
  return warnings;
}


/** Whether a filter narrows the runs at all (then accuracy rows are narrowed to them: accuracyOfRuns). */
export function filterActive(filter: RunFilter): boolean {
  return Object.values(filter).some((v) => v !== undefined);
}

/** The accuracy rows of the (team, case) pairs these runs measured: a filtered ranking ranks those only. */
export function accuracyOfRuns<T extends MetricValue>(accuracy: readonly T[], runs: readonly ScoringRun[]): T[] {
  const keep = new Set(runs.map(runPairKey));
  return accuracy.filter((a) => keep.has(pairKey(a.team, a.case)));
}

/**
 * The efficiency values plus the accuracy rows, with the profile's rule for the accuracy of a failed
 * case applied: under failedCaseAccuracy 'last', the DSC/NSD of a (team, case) whose every ranked run
 * failed or went over the limit rank last too; under 'count' they rank as given.
 */
export function withAccuracy(efficiency: readonly MetricValue[], accuracy: readonly MetricValue[], profile: ChallengeProfile): MetricValue[] {
  if (profile.ranking.failedCaseAccuracy === 'count') return [...efficiency, ...accuracy];
  const ok = new Map<string, boolean>();
  for (const v of efficiency) {
    const k = pairKey(v.team, v.case);
    ok.set(k, (ok.get(k) ?? false) || !v.failed);
  }
  const failedCase = (a: MetricValue): boolean => ok.get(pairKey(a.team, a.case)) === false;
  return [...efficiency, ...accuracy.map((a) => (failedCase(a) ? { ...a, failed: true } : a))];
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
