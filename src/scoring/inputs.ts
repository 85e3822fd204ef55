// What the ranking ranks: accuracy values from an organiser's CSV (`team,case,metric,value`) and
// efficiency values from the stored runs, under a profile. Pure.
import { curveFigures } from '../core/auc.js';
import type { Run, RunSample, RunSummary } from '../core/types.js';
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

/** Parses `team,case,metric,value` (header required, any order of those four columns). */
export function parseAccuracyCsv(text: string): MetricValue[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const col = (h: string): number => {
    const i = header.indexOf(h);
    if (i < 0) throw new AccuracyCsvError(`line 1: header must name team, case, metric and value (missing ${h})`);
    return i;
  };
  const [ti, ci, mi, vi] = [col('team'), col('case'), col('metric'), col('value')];
  const out: MetricValue[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (lines[n].trim() === '') continue;
    if (out.length >= MAX_ROWS) throw new AccuracyCsvError(`more than ${MAX_ROWS} rows`);
    const f = splitCsvLine(lines[n]);
    const raw = (f[vi] ?? '').trim();
    const value = raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(value)) throw new AccuracyCsvError(`line ${n + 1}: value must be a finite number, got ${JSON.stringify(raw.slice(0, 40))}`);
    out.push({ team: name(f[ti] ?? '', n + 1, 'team'), case: name(f[ci] ?? '', n + 1, 'case'), metric: name(f[mi] ?? '', n + 1, 'metric'), value });
  }
  return out;
}

/** Whether a filter narrows the runs at all (then accuracy rows are narrowed to them: accuracyOfRuns). */
export function filterActive(filter: RunFilter): boolean {
  return Object.values(filter).some((v) => v !== undefined);
}

/** The accuracy rows of the (team, case) pairs these runs measured: a filtered ranking ranks those only. */
export function accuracyOfRuns(accuracy: readonly MetricValue[], runs: readonly Run[]): MetricValue[] {
  const keep = new Set(runs.map((r) => JSON.stringify([r.team, r.case])));
  return accuracy.filter((a) => keep.has(JSON.stringify([a.team, a.case])));
}

/** A run that ended without a usable result: ranked with the worst values. */
const FAILED = new Set(['failed', 'oom', 'interrupted']);

type Finished = Run & { summary: RunSummary };

/** The finished runs a ranking uses: the latest per team and case, or every one as a repeat. */
export function rankedRuns(runs: readonly Run[], allRepeats = false): Finished[] {
  const latest = new Map<string, Finished>();
  const every: Finished[] = [];
  for (const r of runs) {
    if (r.status === 'running' || !r.summary) continue;
    every.push(r as Finished);
    const k = JSON.stringify([r.team, r.case]);
    const prev = latest.get(k);
    if (!prev || r.startedWallMs > prev.startedWallMs) latest.set(k, r as Finished);
  }
  return allRepeats ? every : [...latest.values()];
}

/** Over the profile's time limit (its own, not only the one the run was measured with): FLARE's worst values. */
export function overProfileLimit(s: RunSummary, profile: ChallengeProfile): boolean {
  return s.scoring.penalised || (profile.timeLimitSeconds !== null && s.wallSeconds > profile.timeLimitSeconds);
}

/**
 * The runs whose GPU figure must be integrated again from their trace: measured with another GPU
 * tolerance than the profile's, and not penalised (a penalty replaces the figure anyway).
 */
export function needsGpuAuc(runs: readonly Finished[], profile: ChallengeProfile): Finished[] {
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
export function efficiencyValues(runs: readonly Run[], profile: ChallengeProfile, allRepeats = false, gpuAucByRun: ReadonlyMap<string, number | null> = new Map()): MetricValue[] {
  const out: MetricValue[] = [];
  for (const r of rankedRuns(runs, allRepeats)) {
    const s = r.summary;
    const failed = FAILED.has(r.status);
    const p = overProfileLimit(s, profile) ? profile.penalties : null;
    const base = { team: r.team, case: r.case, failed };
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
