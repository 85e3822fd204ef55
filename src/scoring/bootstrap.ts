// How stable a ranking is: a seeded bootstrap over cases, as challengeR does it (docs/scoring.md,
// "Ranking uncertainty"). Each resample draws the cases with replacement and ranks again. Pure.
import type { RankedMetric } from './challenge-profile.js';
import { caseContributions, rankValues, scoreTeams, valueTable, type MetricValue, type ValueFeed, type ValueTable } from './rank.js';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). The same seed gives the same resamples. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** R's default (type 7) quantile of sorted values. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Kendall's τ-b between two rankings of the same teams (ties allowed); NaN when either is constant. */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}

export interface TeamUncertainty {
  team: string;
  /** Place in the full ranking. */
  rank: number;
  medianRank: number;
  /** 95 % interval of the bootstrap places (2.5 % and 97.5 % quantiles, R type 7). */
  rankLow: number;
  rankHigh: number;
  /** Share of resamples with this team placed 1 to 3. */
  pTop3: number;
  /** Share of resamples at each place: placeShares[k] is place k + 1. */
  placeShares: number[];
}

export interface BootstrapResult {
  resamples: number;
  seed: number;
  teams: TeamUncertainty[];
  /** Kendall's τ-b between each resample's places and the full ranking's: median and 95 % interval. */
  kendallTau: { median: number; low: number; high: number };
}

const places = (scores: readonly number[]): number[] => rankValues(scores.map((x) => Math.round(x * 1e9) / 1e9), false, 'min');

/**
 * What a bootstrap draws from, computed once per ranking: the teams, the full ranking's places and,
 * without repeats, each case's weighted ranks (a case ranks the same in every resample). A few
 * hundred KiB at season size, so a server may keep it and run other seeds without the values.
 */
export interface BootstrapInput {
  teams: string[];
  cases: string[];
  full: number[];
  ties: 'min' | 'average';
  /** Without repeats: caseContributions. With repeats: null, and the table to draw from. */
  contributions: Float64Array[] | null;
  table: ValueTable | null;
}

export function bootstrapInput(values: readonly MetricValue[] | ValueFeed, metrics: readonly RankedMetric[], ties: 'min' | 'average', drawRepeats = false): BootstrapInput {
  return bootstrapInputOfTable(valueTable(values, metrics), ties, drawRepeats);
}

export function bootstrapInputOfTable(t: ValueTable, ties: 'min' | 'average', drawRepeats = false): BootstrapInput {
  const full = places(scoreTeams(t, t.cases, ties).score);
  return { teams: t.teams, cases: t.cases, full, ties, contributions: drawRepeats ? null : caseContributions(t, ties), table: drawRepeats ? t : null };
}

/**
 * Bootstrap over cases: `resamples` draws of |cases| cases with replacement, each ranked in full.
 * drawRepeats: for every drawn case, each team's value is one of its repeats, drawn too, so the
 * measurement noise between repeats enters the intervals (the full ranking uses the medians).
 */
export function bootstrapRanking(values: readonly MetricValue[] | ValueFeed, metrics: readonly RankedMetric[], ties: 'min' | 'average', resamples: number, seed: number, drawRepeats = false): BootstrapResult {
  checkResamples(resamples); // before the table is built: a bad count costs nothing
  return bootstrapFrom(bootstrapInput(values, metrics, ties, drawRepeats), resamples, seed);
}

function checkResamples(resamples: number): void {
  if (!Number.isInteger(resamples) || resamples < 1 || resamples > 100_000) throw new RangeError('resamples must be an integer 1 to 100000');
}

export function bootstrapFrom(input: BootstrapInput, resamples: number, seed: number): BootstrapResult {
  checkResamples(resamples);
  const { full, contributions, ties } = input;
  const random = seededRandom(seed);
  const byTeam = input.teams.map(() => [] as number[]);
  const taus: number[] = [];
  const nTeams = input.teams.length;
  const nCases = input.cases.length;
  const sum = new Float64Array(nTeams);
  for (let b = 0; b < resamples; b++) {
    let p: number[];
    if (contributions) {
      // The same additions in the same order as scoreTeams (drawn case, then metric), so every bit of
      // every score, and so every place, is what ranking each resample in full gives.
      sum.fill(0);
      for (let k = 0; k < nCases; k++) {
        const row = contributions[Math.floor(random() * nCases)];
        for (let j = 0; j < row.length; j += nTeams) for (let ti = 0; ti < nTeams; ti++) sum[ti] += row[j + ti];
      }
      p = places(Array.from(sum, (s) => s / nCases));
    } else {
      const t = input.table!;
      const drawn = t.cases.map(() => t.cases[Math.floor(random() * nCases)]);
      // One draw per (drawn case, team), shared by the metrics: a repeat is one run of the case.
      const u = drawn.map(() => t.teams.map(() => random()));
      const teamIndex = new Map(t.teams.map((team, i) => [team, i]));
      const pick = (team: string, ci: number, m: RankedMetric): number => t.valueAt(team, drawn[ci], m, u[ci][teamIndex.get(team) ?? 0]);
      p = places(scoreTeams(t, drawn, ties, pick).score);
    }
    for (const [ti, r] of p.entries()) byTeam[ti].push(r);
    const tau = kendallTauB(full, p);
    if (!Number.isNaN(tau)) taus.push(tau);
  }
  const teams = input.teams.map((team, ti) => {
    const s = [...byTeam[ti]].sort((a, b) => a - b);
    // Places are whole numbers under ties 'min'; 'average' ones (2.5) count at no whole place.
    const atPlace = new Array<number>(nTeams).fill(0);
    let top3 = 0;
    for (const r of s) {
      if (Number.isInteger(r) && r >= 1 && r <= nTeams) atPlace[r - 1]++;
      if (r <= 3) top3++;
    }
    const placeShares = atPlace.map((n) => n / s.length);
    return { team, rank: full[ti], medianRank: quantile(s, 0.5), rankLow: quantile(s, 0.025), rankHigh: quantile(s, 0.975), pTop3: top3 / s.length, placeShares };
  });
  teams.sort((a, b) => a.rank - b.rank || a.medianRank - b.medianRank || (a.team < b.team ? -1 : 1));
  const sortedTau = taus.sort((a, b) => a - b);
  return { resamples, seed, teams, kendallTau: { median: quantile(sortedTau, 0.5), low: quantile(sortedTau, 0.025), high: quantile(sortedTau, 0.975) } };
}

/**
 * The long format challengeR reads (one row per team, case and metric), with exactly the values
 * ranked. A missing or failed case has no value (null, written NA): it ranks last, whatever the
 * others measured, which no number can say; challengeR's `na.treat` must rank it last too.
 */
export function longFormatRows(values: readonly MetricValue[] | ValueFeed, metrics: readonly RankedMetric[]): { team: string; case: string; metric: string; value: number | null }[] {
  const t = valueTable(values, metrics);
  const out: { team: string; case: string; metric: string; value: number | null }[] = [];
  for (const team of t.teams) {
    for (const c of t.cases) {
      for (const m of t.metrics) {
        const value = t.value(team, c, m);
        out.push({ team, case: c, metric: m.metric, value: Number.isFinite(value) ? value : null });
      }
    }
  }
  return out;
}
