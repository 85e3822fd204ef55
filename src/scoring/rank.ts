// FLARE's rank-then-aggregate (docs/scoring.md, "Ranking"): per case and metric the teams are
// ranked, then each team's ranks are averaged with the profile's metric weights. Pure.
import type { RankedMetric } from './challenge-profile.js';

/** One measured value; `failed` marks a case that ran but must score as the worst (failed, no output). */
export interface MetricValue {
  team: string;
  case: string;
  metric: string;
  value: number;
  failed?: boolean;
  /** Repeats of one case (evaluate --repeat): several values per team, case and metric. */
  repeat?: number;
}

export interface TeamRanking {
  team: string;
  /** Final place (1 = best); tied scores share the best place (1, 1, 3). */
  rank: number;
  /** Weighted mean of the team's per-case ranks (lower is better). */
  score: number;
  /** Mean rank per metric over the cases. */
  meanRankByMetric: Record<string, number>;
  /** Cases where this team had no value for some ranked metric (scored with the worst value). */
  missingCases: number;
}

export interface Ranking {
  teams: TeamRanking[];
  cases: string[];
  /** Metrics ranked; a profile metric with no value for any team is skipped (it cannot order anyone). */
  metrics: string[];
  skippedMetrics: string[];
}

/**
 * Ranks of values among teams: 1 = best. ties 'min': tied values share the best rank (competition
 * ranking, 1 1 3); 'average': the mean of the ranks they span (1.5 1.5 3).
 */
export function rankValues(values: readonly number[], higherIsBetter: boolean, ties: 'min' | 'average'): number[] {
  // Compared, not subtracted: a failed case is ±Infinity (lastOf), and Infinity − Infinity is NaN.
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => (higherIsBetter ? compare(b.v, a.v) : compare(a.v, b.v)));
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && order[end + 1].v === order[start].v) end++;
    const r = ties === 'min' ? start + 1 : (start + 1 + end + 1) / 2;
    for (let k = start; k <= end; k++) ranks[order[k].i] = r;
    start = end + 1;
  }
  return ranks;
}

const compare = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * What a failed, penalised or missing case ranks with: past every measured value in the metric's bad
 * direction, so that no measurement, however large, ranks below a failure (the profile's `worst` is
 * only what is shown). Failures tie among themselves.
 */
export const lastOf = (m: RankedMetric): number => (m.higherIsBetter ? -Infinity : Infinity);

/** The value table: team × case × metric → value ranked, lastOf(metric) where missing or failed. */
export interface ValueTable {
  teams: string[];
  cases: string[];
  metrics: RankedMetric[];
  /** The value ranked: the median over the case's repeats (each failed or non-finite one lastOf). */
  value(team: string, c: string, metric: RankedMetric): number;
  /** One repeat's value, picked by u in [0, 1) (the bootstrap draws repeats this way). */
  valueAt(team: string, c: string, metric: RankedMetric, u: number): number;
  missing(team: string, c: string, metric: RankedMetric): boolean;
  /** value() by position: teams[ti], cases[ci], metrics[mi] (the ranking's inner loops). */
  valueOf(ti: number, ci: number, mi: number): number;
  missingOf(ti: number, ci: number, mi: number): boolean;
}

/** One value handed to a table: positional, so a million accuracy rows build no objects. */
export type ValueVisitor = (team: string, c: string, metric: string, value: number, failed: boolean) => void;

/** Values a table is built from, visited twice (names first, then cells): an array, or columns (accuracy-table.ts). */
export interface ValueFeed {
  each(visit: ValueVisitor): void;
}

/** An array of values as a feed. */
export const feedOf = (values: readonly MetricValue[]): ValueFeed => ({
  each(visit) {
    for (const v of values) visit(v.team, v.case, v.metric, v.value, v.failed ?? false);
  },
});

/** Feeds one after the other (the runs' efficiency values, then the organiser's accuracy). */
export const joinFeeds = (...feeds: ValueFeed[]): ValueFeed => ({
  each(visit) {
    for (const f of feeds) f.each(visit);
  },
});

const EMPTY = 0;
const ONE = 1;
const ONE_FAILED = 2;
const SEVERAL = 3;

/**
 * Cells are kept in flat typed arrays indexed by position (team, case, metric), found through one
 * Map per axis: a season's 50 teams × 200 cases × 5 metrics are looked up hundreds of thousands of
 * times per ranking, and a composed string key per lookup was most of its time. A cell holds one
 * value in `one` (its state says whether it failed); only a cell with several (repeats) has a list.
 * Typed arrays live outside V8's heap, so a million accuracy values fit the heavy-read thread's
 * bounded heap (an array per cell and an object per value did not: issue 36). Only the profile's
 * metrics get cells; every value's team and case count, whatever its metric.
 */
export function valueTable(input: readonly MetricValue[] | ValueFeed, metrics: readonly RankedMetric[], teamsIn?: readonly string[]): ValueTable {
  const feed = Array.isArray(input) ? feedOf(input as readonly MetricValue[]) : (input as ValueFeed);
  const teamSet = new Set<string>(teamsIn ?? []);
  const caseSet = new Set<string>();
  const wanted = new Set(metrics.map((m) => m.metric));
  const metricIndex = new Map<string, number>();
  feed.each((team, c, metric) => {
    teamSet.add(team);
    caseSet.add(c);
    if (wanted.has(metric) && !metricIndex.has(metric)) metricIndex.set(metric, metricIndex.size);
  });
  const teams = [...teamSet].sort();
  const cases = [...caseSet].sort();
  const teamIndex = new Map(teams.map((t, i) => [t, i]));
  const caseIndex = new Map(cases.map((c, i) => [c, i]));
  const nM = metricIndex.size;
  const nT = teams.length;
  const cellOf = (ti: number, ci: number, mi: number): number => (ci * nM + mi) * nT + ti;
  const nCells = cases.length * nM * nT;
  const state = new Uint8Array(nCells);
  const one = new Float64Array(nCells);
  const several = new Map<number, { value: number; failed: boolean }[]>();
  feed.each((team, c, metric, value, failed) => {
    const mi = metricIndex.get(metric);
    if (mi === undefined) return;
    const k = cellOf(teamIndex.get(team)!, caseIndex.get(c)!, mi);
    if (state[k] === EMPTY) {
      state[k] = failed ? ONE_FAILED : ONE;
      one[k] = value;
      return;
    }
    // In place: loading stays linear in the rows.
    if (state[k] !== SEVERAL) several.set(k, [{ value: one[k], failed: state[k] === ONE_FAILED }]);
    state[k] = SEVERAL;
    several.get(k)!.push({ value, failed });
  });
  const usable = (value: number, failed: boolean, m: RankedMetric): number => (failed || !Number.isFinite(value) ? lastOf(m) : value);
  const medians = new Map<number, number>();
  const cellValue = (k: number, m: RankedMetric): number => {
    if (state[k] === EMPTY) return lastOf(m);
    if (state[k] !== SEVERAL) return usable(one[k], state[k] === ONE_FAILED, m);
    let median = medians.get(k);
    if (median === undefined) {
      const xs = several.get(k)!.map((v) => usable(v.value, v.failed, m)).sort(compare);
      const mid = xs.length >> 1;
      // Two middle values, one of them a failure: the failure (a mean with ±Infinity is that).
      median = xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
      medians.set(k, median);
    }
    return median;
  };
  /** The cell of names; -1 when the team, case or metric has no value at all. */
  const cellByName = (team: string, c: string, metric: string): number => {
    const ti = teamIndex.get(team);
    const ci = caseIndex.get(c);
    const mi = metricIndex.get(metric);
    return ti === undefined || ci === undefined || mi === undefined ? -1 : cellOf(ti, ci, mi);
  };
  const ranked = metrics.filter((m) => metricIndex.has(m.metric) && m.weight > 0);
  const rankedIndex = ranked.map((m) => metricIndex.get(m.metric)!);
  return {
    teams,
    cases,
    metrics: ranked,
    value(team, c, m) {
      const k = cellByName(team, c, m.metric);
      return k < 0 ? lastOf(m) : cellValue(k, m);
    },
    valueAt(team, c, m, u) {
      const k = cellByName(team, c, m.metric);
      if (k < 0 || state[k] === EMPTY) return lastOf(m);
      if (state[k] !== SEVERAL) return usable(one[k], state[k] === ONE_FAILED, m);
      const vs = several.get(k)!;
      const v = vs[Math.min(vs.length - 1, Math.floor(u * vs.length))];
      return usable(v.value, v.failed, m);
    },
    missing: (team, c, m) => {
      const k = cellByName(team, c, m.metric);
      return k < 0 || state[k] === EMPTY;
    },
    valueOf: (ti, ci, mi) => cellValue(cellOf(ti, ci, rankedIndex[mi]), ranked[mi]),
    missingOf: (ti, ci, mi) => state[cellOf(ti, ci, rankedIndex[mi])] === EMPTY,
  };
}

/**
 * Scores teams over the given cases (a case may appear several times: the bootstrap's resamples).
 * `pick(team, caseIndex, metric)`: the value to rank instead of the median (the bootstrap's drawn repeat).
 */
export function scoreTeams(t: ValueTable, cases: readonly string[], ties: 'min' | 'average', pick?: (team: string, caseIndex: number, m: RankedMetric) => number): { score: number[]; meanRank: number[][] } {
  const totalWeight = t.metrics.reduce((s, m) => s + m.weight, 0);
  const score = new Array<number>(t.teams.length).fill(0);
  const meanRank = t.metrics.map(() => new Array<number>(t.teams.length).fill(0));
  if (cases.length === 0 || totalWeight === 0) return { score, meanRank };
  const caseIndex = new Map(t.cases.map((c, i) => [c, i]));
  for (const [ci, c] of cases.entries()) {
    for (const [mi, m] of t.metrics.entries()) {
      const at = caseIndex.get(c);
      const ranks = rankValues(t.teams.map((team, ti) => (pick ? pick(team, ci, m) : at === undefined ? t.value(team, c, m) : t.valueOf(ti, at, mi))), m.higherIsBetter, ties);
      for (const [ti, r] of ranks.entries()) {
        score[ti] += (m.weight * r) / totalWeight;
        meanRank[mi][ti] += r;
      }
    }
  }
  return { score: score.map((s) => s / cases.length), meanRank: meanRank.map((row) => row.map((r) => r / cases.length)) };
}

/**
 * Each case's share of the teams' scores, computed once: row ci holds, at mi × teams + ti, what
 * scoreTeams adds for team ti, metric mi in case ci (weight × rank / total weight). Without repeats a
 * case's ranks are the same in every bootstrap resample, so a resample only sums drawn rows.
 */
export function caseContributions(t: ValueTable, ties: 'min' | 'average'): Float64Array[] {
  const totalWeight = t.metrics.reduce((s, m) => s + m.weight, 0);
  const nTeams = t.teams.length;
  return t.cases.map((_, ci) => {
    const row = new Float64Array(t.metrics.length * nTeams);
    if (totalWeight === 0) return row;
    for (const [mi, m] of t.metrics.entries()) {
      const ranks = rankValues(t.teams.map((_, ti) => t.valueOf(ti, ci, mi)), m.higherIsBetter, ties);
      for (let ti = 0; ti < nTeams; ti++) row[mi * nTeams + ti] = (m.weight * ranks[ti]) / totalWeight;
    }
    return row;
  });
}

/** Full ranking: per case and metric rank the teams, weighted mean per team, final places. */
export function rankTeams(values: readonly MetricValue[] | ValueFeed, metrics: readonly RankedMetric[], ties: 'min' | 'average', teams?: readonly string[]): Ranking {
  return rankTable(valueTable(values, metrics, teams), metrics, ties);
}

/** rankTeams over a table already built (a server builds one table for the ranking and its bootstrap). */
export function rankTable(t: ValueTable, metrics: readonly RankedMetric[], ties: 'min' | 'average'): Ranking {
  const { score, meanRank } = scoreTeams(t, t.cases, ties);
  // Scores are sums of fractions: equal ones may differ in the last bits, so places compare at 1e-9.
  const places = rankValues(score.map((x) => Math.round(x * 1e9) / 1e9), false, 'min');
  const out: TeamRanking[] = t.teams.map((team, ti) => ({
    team,
    rank: places[ti],
    score: score[ti],
    meanRankByMetric: Object.fromEntries(t.metrics.map((m, mi) => [m.metric, meanRank[mi][ti]])),
    missingCases: t.cases.filter((_, ci) => t.metrics.some((_m, mi) => t.missingOf(ti, ci, mi))).length,
  }));
  out.sort((a, b) => a.rank - b.rank || (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));
  return {
    teams: out,
    cases: t.cases,
    metrics: t.metrics.map((m) => m.metric),
    skippedMetrics: metrics.filter((m) => !t.metrics.includes(m)).map((m) => m.metric),
  };
}
