// FLARE's rank-then-aggregate (docs/scoring.md, "Ranking"): per case and metric the teams are
// ranked, then each team's ranks are averaged with the profile's metric weights. Pure.
import type { RankedMetric } from './profile.js';

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

const key = (team: string, c: string, metric: string): string => JSON.stringify([team, c, metric]);

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
}

export function valueTable(values: readonly MetricValue[], metrics: readonly RankedMetric[], teamsIn?: readonly string[]): ValueTable {
  const byKey = new Map<string, MetricValue[]>();
  for (const v of values) {
    const k = key(v.team, v.case, v.metric);
    const list = byKey.get(k);
    if (list) list.push(v); // in place: loading stays linear in the rows
    else byKey.set(k, [v]);
  }
  const usable = (v: MetricValue, m: RankedMetric): number => (v.failed || !Number.isFinite(v.value) ? lastOf(m) : v.value);
  const medians = new Map<string, number>();
  const teams = [...new Set([...(teamsIn ?? []), ...values.map((v) => v.team)])].sort();
  const cases = [...new Set(values.map((v) => v.case))].sort();
  const present = new Set(values.map((v) => v.metric));
  return {
    teams,
    cases,
    metrics: metrics.filter((m) => present.has(m.metric) && m.weight > 0),
    value(team, c, m) {
      const k = key(team, c, m.metric);
      const vs = byKey.get(k);
      if (vs === undefined) return lastOf(m);
      if (vs.length === 1) return usable(vs[0], m);
      let med = medians.get(k);
      if (med === undefined) {
        const xs = vs.map((v) => usable(v, m)).sort(compare);
        const mid = xs.length >> 1;
        // Two middle values, one of them a failure: the failure (a mean with ±Infinity is that).
        med = xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
        medians.set(k, med);
      }
      return med;
    },
    valueAt(team, c, m, u) {
      const vs = byKey.get(key(team, c, m.metric));
      return vs === undefined ? lastOf(m) : usable(vs[Math.min(vs.length - 1, Math.floor(u * vs.length))], m);
    },
    missing: (team, c, m) => !byKey.has(key(team, c, m.metric)),
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
  for (const [ci, c] of cases.entries()) {
    for (const [mi, m] of t.metrics.entries()) {
      const ranks = rankValues(t.teams.map((team) => (pick ? pick(team, ci, m) : t.value(team, c, m))), m.higherIsBetter, ties);
      for (const [ti, r] of ranks.entries()) {
        score[ti] += (m.weight * r) / totalWeight;
        meanRank[mi][ti] += r;
      }
    }
  }
  return { score: score.map((s) => s / cases.length), meanRank: meanRank.map((row) => row.map((r) => r / cases.length)) };
}

/** Full ranking: per case and metric rank the teams, weighted mean per team, final places. */
export function rankTeams(values: readonly MetricValue[], metrics: readonly RankedMetric[], ties: 'min' | 'average', teams?: readonly string[]): Ranking {
  const t = valueTable(values, metrics, teams);
  const { score, meanRank } = scoreTeams(t, t.cases, ties);
  // Scores are sums of fractions: equal ones may differ in the last bits, so places compare at 1e-9.
  const places = rankValues(score.map((x) => Math.round(x * 1e9) / 1e9), false, 'min');
  const out: TeamRanking[] = t.teams.map((team, ti) => ({
    team,
    rank: places[ti],
    score: score[ti],
    meanRankByMetric: Object.fromEntries(t.metrics.map((m, mi) => [m.metric, meanRank[mi][ti]])),
    missingCases: t.cases.filter((c) => t.metrics.some((m) => t.missing(team, c, m))).length,
  }));
  out.sort((a, b) => a.rank - b.rank || (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));
  return {
    teams: out,
    cases: t.cases,
    metrics: t.metrics.map((m) => m.metric),
    skippedMetrics: metrics.filter((m) => !t.metrics.includes(m)).map((m) => m.metric),
  };
}
