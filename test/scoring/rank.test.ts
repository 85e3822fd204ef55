// FLARE's rank-then-aggregate against hand-computed rankings: ties, missing cases, penalties, weights.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAccuracy, efficiencyValues, gpuAucAboveMiBs, needsGpuAuc, parseAccuracyCsv, rankedRuns, withAccuracy, AccuracyCsvError } from '../../src/scoring/inputs.js';
import type { RankedMetric } from '../../src/scoring/challenge-profile.js';
import { loadProfile } from '../../src/scoring/challenge-profile-load.js';
import { rankTeams, rankValues, type MetricValue } from '../../src/scoring/rank.js';
import { cli } from '../http/cli-helpers.js';
import { fill, run, summary, T0 } from '../http/helpers.js';
import { tempStore } from '../http/store-helpers.js';

const DSC: RankedMetric = { metric: 'DSC', higherIsBetter: true, weight: 1, worst: 0 };
const TIME: RankedMetric = { metric: 'time', higherIsBetter: false, weight: 1, worst: 3600 };
const GPU_HALF: RankedMetric = { metric: 'aucGpu', higherIsBetter: false, weight: 0.5, worst: 29491200 };

const v = (team: string, c: string, metric: string, value: number, failed = false): MetricValue => ({ team, case: c, metric, value, failed });

describe('rankValues', () => {
  it('min ties share the best rank (1 1 3); average ties share the mean (1.5 1.5 3)', () => {
    expect(rankValues([0.9, 0.8, 0.9], true, 'min')).toEqual([1, 3, 1]);
    expect(rankValues([0.9, 0.8, 0.9], true, 'average')).toEqual([1.5, 3, 1.5]);
    expect(rankValues([10, 5, 5], false, 'min')).toEqual([3, 1, 1]);
  });
});

describe('rankTeams (hand-computed)', () => {
  // Teams A, B, C; cases c1, c2; DSC and time at weight 1, GPU AUC at 0.5 (total weight 2.5). C has no c2.
  //   c1 ranks: DSC A1 B3 C1 · time A1 B2 C3 · GPU (100, 100, 50) A2 B2 C1
  //   c2 ranks (C gets the worst values 0, 3600, 29491200): DSC B1 A2 C3 · time B1 A2 C3 · GPU A1 B2 C3
  //   A: c1 (1 + 1 + 0.5·2)/2.5 = 1.2, c2 (2 + 2 + 0.5·1)/2.5 = 1.8 → 1.5
  //   B: c1 (3 + 2 + 0.5·2)/2.5 = 2.4, c2 (1 + 1 + 0.5·2)/2.5 = 1.2 → 1.8
  //   C: c1 (1 + 3 + 0.5·1)/2.5 = 1.8, c2 (3 + 3 + 0.5·3)/2.5 = 3.0 → 2.4
  const values = [
    v('A', 'c1', 'DSC', 0.9), v('B', 'c1', 'DSC', 0.8), v('C', 'c1', 'DSC', 0.9),
    v('A', 'c1', 'time', 10), v('B', 'c1', 'time', 20), v('C', 'c1', 'time', 30),
    v('A', 'c1', 'aucGpu', 100), v('B', 'c1', 'aucGpu', 100), v('C', 'c1', 'aucGpu', 50),
    v('A', 'c2', 'DSC', 0.7), v('B', 'c2', 'DSC', 0.9),
    v('A', 'c2', 'time', 10), v('B', 'c2', 'time', 5),
    v('A', 'c2', 'aucGpu', 0), v('B', 'c2', 'aucGpu', 10),
  ];

  it('weights, worst values for a missing case, final places', () => {
    const r = rankTeams(values, [DSC, TIME, GPU_HALF], 'min');
    expect(r.teams.map((t) => [t.team, t.rank])).toEqual([['A', 1], ['B', 2], ['C', 3]]);
    expect(r.teams.map((t) => t.score)).toEqual([1.5, 1.8, 2.4].map((x) => expect.closeTo(x, 12)));
    expect(r.teams[0].meanRankByMetric).toEqual({ DSC: 1.5, time: 1.5, aucGpu: 1.5 });
    expect(r.teams.map((t) => t.missingCases)).toEqual([0, 0, 1]);
    expect(r.cases).toEqual(['c1', 'c2']);
  });

  it('a failed case scores the worst value even where a value was measured', () => {
    // B's c2 time marked failed → 3600: c2 time ranks A1 B2 C2 (3600 = worst = C's missing) → B c2 (1 + 2 + 0.5·2)/2.5 = 1.6
    const failed = values.map((x) => (x.team === 'B' && x.case === 'c2' && x.metric === 'time' ? { ...x, failed: true } : x));
    const r = rankTeams(failed, [DSC, TIME, GPU_HALF], 'min');
    const b = r.teams.find((t) => t.team === 'B')!;
    expect(b.score).toBeCloseTo((2.4 + 1.6) / 2, 12);
  });

  it('equal scores share a place; a metric nobody has is skipped', () => {
    // X: DSC 1, time 2 → 1.5; Y: DSC 2, time 1 → 1.5
    const r = rankTeams([v('X', 'c', 'DSC', 0.9), v('Y', 'c', 'DSC', 0.8), v('X', 'c', 'time', 2), v('Y', 'c', 'time', 1)], [DSC, TIME, GPU_HALF], 'min');
    expect(r.teams.map((t) => [t.team, t.rank])).toEqual([['X', 1], ['Y', 1]]);
    expect(r.skippedMetrics).toEqual(['aucGpu']);
  });
});

describe('efficiency values from runs under a profile', () => {
  const flare22 = loadProfile('flare22');
  it('over the limit: the profile penalties; failed: marked failed; the latest run per case counts', () => {
    const runs = [
      run('a-old', { team: 'A', case: 'c1', startedWallMs: T0, summary: summary({ scoring: { timeSeconds: 99, aucGpuMiBs: 9, aucCpuPctS: 9, penalised: false } }) }),
      run('a-new', { team: 'A', case: 'c1', startedWallMs: T0 + 1, status: 'timeout', summary: summary({ scoring: { timeSeconds: 1, aucGpuMiBs: 1, aucCpuPctS: 1, penalised: true } }) }),
      run('b', { team: 'B', case: 'c1', status: 'failed', summary: summary({ scoring: { timeSeconds: 5, aucGpuMiBs: null, aucCpuPctS: 7, penalised: false } }) }),
    ];
    const vals = efficiencyValues(runs, flare22);
    expect(vals).toEqual([
      { team: 'A', case: 'c1', failed: true, metric: 'time', value: 3600 },
      { team: 'A', case: 'c1', failed: true, metric: 'aucCpu', value: 360000 },
      { team: 'A', case: 'c1', failed: true, metric: 'aucGpu', value: 29491200 },
      { team: 'B', case: 'c1', failed: true, metric: 'time', value: 5 },
      { team: 'B', case: 'c1', failed: true, metric: 'aucCpu', value: 7 },
    ]);
    // --repeats: every finished run counts (A's two runs → two time values).
    expect(efficiencyValues(runs, flare22, true).filter((x) => x.team === 'A' && x.metric === 'time').map((x) => x.value)).toEqual([99, 3600]);
    // A over the limit (its penalties shown), B failed: both rank last on every metric → a tie.
    const r = rankTeams(vals, flare22.ranking.metrics, flare22.ranking.ties);
    expect(r.teams.map((t) => t.rank)).toEqual([1, 1]);
    expect(r.skippedMetrics).toEqual(['DSC', 'NSD']);
  });
});

describe('a failed, penalised or missing case ranks last on every metric', () => {
  const flare22 = loadProfile('flare22');
  const measured = (team: string, c: string, over: Partial<{ timeSeconds: number; aucGpuMiBs: number; aucCpuPctS: number }> = {}) =>
    summary({ scoring: { timeSeconds: 5000, aucGpuMiBs: 40e6, aucCpuPctS: 500_000, penalised: false, ...over } });

  it('a completed run past every worst value still ranks above a failed one (the issue\'s team01 and team02)', () => {
    // team01 completed with values past every `worst` (time 3600, aucGpu 29 491 200, aucCpu 360 000).
    const runs = [
      run('t1', { team: 'team01', case: 'c1', summary: measured('team01', 'c1') }),
      run('t2', { team: 'team02', case: 'c1', status: 'failed', summary: measured('team02', 'c1', { timeSeconds: 1, aucGpuMiBs: 0, aucCpuPctS: 1 }) }),
      run('t3', { team: 'team03', case: 'c1', status: 'oom', summary: measured('team03', 'c1', { timeSeconds: 2, aucGpuMiBs: 1, aucCpuPctS: 2 }) }),
    ];
    const r = rankTeams(efficiencyValues(runs, flare22), flare22.ranking.metrics, flare22.ranking.ties);
    const by = Object.fromEntries(r.teams.map((t) => [t.team, t]));
    for (const m of ['time', 'aucGpu', 'aucCpu']) {
      expect(by.team01.meanRankByMetric[m], m).toBe(1);
      expect(by.team02.meanRankByMetric[m], m).toBe(2); // the failures tie, after every measurement
      expect(by.team03.meanRankByMetric[m], m).toBe(2);
    }
    expect(r.teams[0].team).toBe('team01');
    // A case with no run at all ranks last as well (team04 has only c2; the others only c1).
    const r2 = rankTeams([...efficiencyValues(runs, flare22), { team: 'team04', case: 'c2', metric: 'time', value: 1e9 }], [TIME], 'min');
    // c1: missing → last, tied with the failures at 2 (after team01); c2: its 1e9 s is the only measurement → 1.
    expect(r2.teams.find((t) => t.team === 'team04')?.meanRankByMetric.time).toBe(1.5);
    expect(r2.teams.find((t) => t.team === 'team01')?.meanRankByMetric.time).toBe(1.5); // c2 missing: 2
  });

  it('the DSC of a failed case: last under failedCaseAccuracy "last" (shipped), as given under "count"', () => {
    const runs = [
      run('a', { team: 'A', case: 'c1', summary: measured('A', 'c1', { timeSeconds: 10, aucGpuMiBs: 0, aucCpuPctS: 1 }) }),
      run('b', { team: 'B', case: 'c1', status: 'failed', summary: measured('B', 'c1', { timeSeconds: 10, aucGpuMiBs: 0, aucCpuPctS: 1 }) }),
    ];
    const acc: MetricValue[] = [v('A', 'c1', 'DSC', 0.5), v('B', 'c1', 'DSC', 0.99)];
    const last = rankTeams(withAccuracy(efficiencyValues(runs, flare22), acc, flare22), flare22.ranking.metrics, 'min');
    expect(last.teams.find((t) => t.team === 'B')?.meanRankByMetric.DSC).toBe(2);
    const counting = { ...flare22, ranking: { ...flare22.ranking, failedCaseAccuracy: 'count' as const } };
    const count = rankTeams(withAccuracy(efficiencyValues(runs, counting), acc, counting), counting.ranking.metrics, 'min');
    expect(count.teams.find((t) => t.team === 'B')?.meanRankByMetric.DSC).toBe(1);
  });
});

describe('the profile\'s own time limit and GPU tolerance', () => {
  const flare22 = loadProfile('flare22');
  const gpuSample = (s: number, gpuMiB: number | null) => ({ monoNs: s * 1e9, wallMs: T0 + s * 1000, cpuSeconds: 0, ramMiB: 1, gpuMiB, gpuDeviceMiB: gpuMiB });

  it('a run longer than the profile\'s limit gets the penalties, though it was measured without a limit', () => {
    const limited = { ...flare22, timeLimitSeconds: 12 };
    const runs = [
      run('slow', { team: 'A', summary: summary({ wallSeconds: 12.5, scoring: { timeSeconds: 12.5, aucGpuMiBs: 5, aucCpuPctS: 5, penalised: false } }) }),
      run('fast', { team: 'B', summary: summary({ wallSeconds: 11.9, scoring: { timeSeconds: 11.9, aucGpuMiBs: 5, aucCpuPctS: 5, penalised: false } }) }),
    ];
    const time = (vals: MetricValue[], team: string): number | undefined => vals.find((x) => x.team === team && x.metric === 'time')?.value;
    expect(time(efficiencyValues(runs, flare22), 'A')).toBe(12.5);
    const vals = efficiencyValues(runs, limited);
    expect(vals.filter((x) => x.team === 'A').map((x) => [x.metric, x.value])).toEqual([['time', 3600], ['aucCpu', 360000], ['aucGpu', 29491200]]);
    expect(time(vals, 'B')).toBe(11.9);
  });

  it('GPU AUC above another tolerance is integrated again from the trace (hand-computed)', () => {
    // 0 s: 1000 MiB, 1 s: 3000, 2 s: 3000. Above 2048: the crossing triangle 952²/2000/2 = 226.576, then 952 → 1178.576.
    // Above 0: (1000+3000)/2 + 3000 = 5000.
    const trace = [gpuSample(0, 1000), gpuSample(1, 3000), gpuSample(2, 3000)];
    expect(gpuAucAboveMiBs(trace, 2048)).toBeCloseTo(1178.576, 9);
    expect(gpuAucAboveMiBs(trace, 0)).toBeCloseTo(5000, 9);
    // A gap (null) counts nothing on either side; no GPU value at all: unknown.
    expect(gpuAucAboveMiBs([gpuSample(0, 3000), gpuSample(1, null), gpuSample(2, 3000)], 0)).toBe(0);
    expect(gpuAucAboveMiBs([gpuSample(0, null)], 0)).toBeNull();

    const generic = loadProfile('generic'); // tolerance 0
    const runs = [run('m', { team: 'A', summary: summary({ scoring: { timeSeconds: 2, aucGpuMiBs: 1178.576, aucCpuPctS: 1, penalised: false } }) })];
    expect(needsGpuAuc(rankedRuns(runs), flare22)).toEqual([]);
    expect(needsGpuAuc(rankedRuns(runs), generic).map((r) => r.id)).toEqual(['m']);
    expect(() => efficiencyValues(runs, generic)).toThrow(/tolerance of 2048 MiB, the profile has 0/);
    const gpu = efficiencyValues(runs, generic, false, new Map([['m', gpuAucAboveMiBs(trace, 0)]])).find((x) => x.metric === 'aucGpu');
    expect(gpu?.value).toBeCloseTo(5000, 9);
    expect(efficiencyValues(runs, flare22).find((x) => x.metric === 'aucGpu')?.value).toBe(1178.576);
  });
});

describe('accuracy CSV', () => {
  it('parses team,case,metric,value with quotes, any column order', () => {
    expect(parseAccuracyCsv('metric,team,case,value\nDSC,"team, one",c1,0.91\n\nNSD,b,c1,0.5\n')).toEqual([
      { team: 'team, one', case: 'c1', metric: 'DSC', value: 0.91, line: 2 },
      { team: 'b', case: 'c1', metric: 'NSD', value: 0.5, line: 4 },
    ]);
  });

  it('checks values against the profile\'s range; warns of unknown metrics and of teams or cases on one side only', () => {
    const flare22 = loadProfile('flare22');
    const runs = [run('r1', { team: 'alpha', case: 'c1' }), run('r2', { team: 'beta', case: 'c1' })];
    for (const bad of ['5', '-1', '1e2', '1.0000001']) {
      expect(() => checkAccuracy(parseAccuracyCsv(`team,case,metric,value\nalpha,c1,DSC,0.5\nbeta,c1,DSC,${bad}`), flare22, runs)).toThrow(/line 3: DSC .* is outside the profile's range \[0, 1\]/);
    }
    const warnings = checkAccuracy(parseAccuracyCsv('team,case,metric,value\nalpha,c1,dsc,0.5\nalpha,c1,DSC,0.5\ngamma,c9,DSC,0.5\n'), flare22, runs);
    expect(warnings).toEqual([
      'metric "dsc" (first on line 2) is not ranked by profile flare22: its rows are ignored',
      'teams in the accuracy CSV with no finished run: "gamma"',
      'teams with finished runs and no accuracy row: "beta"',
      'cases in the accuracy CSV with no finished run: "c9"',
    ]);
    expect(checkAccuracy(parseAccuracyCsv('team,case,metric,value\nalpha,c1,DSC,1\nbeta,c1,DSC,0\n'), flare22, runs)).toEqual([]);
  });

  it('the per-organ rows of accuracy --long are one line, not a warning per organ', () => {
    const flare22 = loadProfile('flare22');
    const runs = [run('r1', { team: 'alpha', case: 'c1' })];
    const organs = (flare22.accuracy?.organs ?? []).flatMap((o) => [`alpha,c1,DSC_${o.name},0.5`, `alpha,c1,NSD_${o.name},0.5`]);
    expect(organs).toHaveLength(26);
    const warnings = checkAccuracy(parseAccuracyCsv(['team,case,metric,value', 'alpha,c1,DSC,0.5', 'alpha,c1,NSD,0.5', ...organs, 'alpha,c1,HD95_Liver,3'].join('\n')), flare22, runs);
    expect(warnings).toEqual([
      'metric "HD95_Liver" (first on line 30) is not ranked by profile flare22: its rows are ignored',
      '26 per-organ metrics (DSC_Liver …) are not ranked by profile flare22, which ranks the means: their rows are ignored',
    ]);
  });

  it('one team typed in NFC and NFD is one team: its second row is a duplicate', () => {
    const nfc = 'Z\u00fcrich';
    const nfd = 'Zu\u0308rich';
    expect(() => parseAccuracyCsv(`team,case,metric,value\n${nfc},c1,DSC,0.5\n${nfd},c1,DSC,0.6`)).toThrow(/line 3: a second DSC .* \(first on line 2\)/);
    expect(parseAccuracyCsv(`team,case,metric,value\n${nfd},c1,DSC,0.5`)[0].team).toBe(nfc);
  });

  it('a season\'s accuracy file (50 teams × 2000 cases × 2 metrics) loads and ranks', () => {
    const lines = ['team,case,metric,value'];
    for (let i = 0; i < 200_000; i++) lines.push(`t${i % 50},case_${Math.floor(i / 100)},${Math.floor(i / 50) % 2 === 0 ? 'DSC' : 'NSD'},0.5`);
    // Each (team, case, metric) once: 50 teams × 2 metrics per 100 rows.
    const rows = parseAccuracyCsv(lines.join('\n'));
    expect(rows).toHaveLength(200_000);
    const r = rankTeams(rows, [DSC, { ...DSC, metric: 'NSD' }], 'min');
    expect(r.teams).toHaveLength(50);
  });

  it.each([
    ['team,case,metric\na,b,c', /missing value/],
    ['team,case,metric,value\na,c1,DSC,0.9\na,c1,NSD,high', /line 3: value/],
    ['team,case,metric,value\n,c1,DSC,0.9', /line 2: team/],
    // Averaged silently before: a second row for the same team, case and metric.
    ['team,case,metric,value\na,c1,DSC,0.8463\nb,c1,DSC,0.5\na,c1,DSC,0.99', /line 4: a second DSC for team "a", case "c1" \(first on line 2\)/],
    // Mixed into the measured values before.
    ['team,case,metric,value\na,c1,time,47.58', /line 2: metric time is measured from the runs/],
    ['team,case,metric,value\na,c1,aucGPU,1', /line 2: metric aucGPU is measured from the runs/],
    ['team,case,metric,value\na,c1,DSC,0x1', /line 2: value must be a finite number, got "0x1"/],
  ])('refuses %j', (text, re) => {
    expect(() => parseAccuracyCsv(text)).toThrow(AccuracyCsvError);
    expect(() => parseAccuracyCsv(text)).toThrow(re);
  });
});

describe('flare-agent rank (built CLI, real SQLite file)', () => {
  let db: ReturnType<typeof tempStore>;
  let dir: string;
  beforeAll(() => {
    db = tempStore();
    // alpha: time 12.5, aucCpu 500, aucGpu 1000.5 (helpers' summary); beta: faster and leaner.
    fill(db.store, [
      run('r-a', { team: 'alpha', case: 'c1' }),
      run('r-b', { team: 'beta', case: 'c1', summary: summary({ scoring: { timeSeconds: 5, aucGpuMiBs: 10, aucCpuPctS: 100, penalised: false } }) }),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'flare-rank-'));
  });
  afterAll(() => db?.cleanup());

  it('ranks with the accuracy CSV (alpha better on DSC and NSD, beta on every efficiency metric)', async () => {
    const acc = join(dir, 'acc.csv');
    writeFileSync(acc, 'team,case,metric,value\nalpha,c1,DSC,0.9\nbeta,c1,DSC,0.8\nalpha,c1,NSD,0.9\nbeta,c1,NSD,0.8\n');
    const long = join(dir, 'long.csv');
    const r = await cli(['rank', '--db', db.path, '--accuracy', acc, '--json', '--long-csv', long, '--bootstrap', '200', '--seed', '3']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { teams: { team: string; rank: number; score: number }[]; bootstrap: { resamples: number; teams: { rankLow: number; rankHigh: number }[] } };
    // One case: every resample is that case, so the intervals are the full places.
    expect(out.bootstrap.resamples).toBe(200);
    expect(out.bootstrap.teams.map((t) => [t.rankLow, t.rankHigh])).toEqual([[1, 1], [1, 1]]);
    expect(readFileSync(long, 'utf8').split('\n').slice(0, 3)).toEqual(['team,case,metric,value', 'alpha,c1,DSC,0.9', 'alpha,c1,NSD,0.9']);
    // FLARE22 weights DSC 1, NSD 1, time 1, aucGpu 0.5, aucCpu 0.5 (total 4):
    // alpha (1 + 1 + 2 + 0.5·2 + 0.5·2)/4 = 1.5; beta (2 + 2 + 1 + 0.5 + 0.5)/4 = 1.5 → tied first.
    expect(out.teams.map((t) => [t.team, t.rank, t.score])).toEqual([['alpha', 1, 1.5], ['beta', 1, 1.5]]);
    const flare23 = JSON.parse((await cli(['rank', '--db', db.path, '--accuracy', acc, '--profile', 'flare23', '--json'])).stdout) as { teams: { team: string; rank: number }[] };
    // FLARE23 (DSC, NSD, time, aucGpu all weight 1): alpha (1+1+2+2)/4 = 1.5, beta (2+2+1+1)/4 = 1.5: still tied.
    expect(flare23.teams.map((t) => t.rank)).toEqual([1, 1]);
  });

  it('a malformed accuracy CSV: exit 2 naming the line', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'team,case,metric,value\nalpha,c1,DSC,NaN\n');
    const r = await cli(['rank', '--db', db.path, '--accuracy', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 2: value');
    // The agent refuses it at start (--accuracy-csv), before it serves anything.
    const start = await cli(['start', '--db', join(dir, 'agent.db'), '--gpu-source', 'none', '--listen', '127.0.0.1:0', '--accuracy-csv', bad]);
    expect(start.code).toBe(2);
    expect(start.stderr).toContain('invalid --accuracy-csv');
    expect(start.stderr).toContain('line 2: value');
  });

  it('warns of what the accuracy CSV and the runs do not share, on stderr and in the JSON; a value out of range is exit 2', async () => {
    const acc = join(dir, 'acc-warn.csv');
    writeFileSync(acc, 'team,case,metric,value\nalpha,c1,DSC,0.9\nbeta,c1,dsc,0.8\ngamma,c1,DSC,0.7\n');
    const r = await cli(['rank', '--db', db.path, '--accuracy', acc, '--json', '--bootstrap', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('flare-agent rank: warning: metric "dsc" (first on line 3) is not ranked by profile flare22');
    expect(r.stderr).toContain('teams in the accuracy CSV with no finished run: "gamma"');
    expect((JSON.parse(r.stdout) as { warnings: string[] }).warnings).toHaveLength(2);
    const out = join(dir, 'acc-out.csv');
    writeFileSync(out, 'team,case,metric,value\nalpha,c1,DSC,5\n');
    const bad = await cli(['rank', '--db', db.path, '--accuracy', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('line 2: DSC 5 is outside the profile\'s range [0, 1]');
  });

  it('--team ranks that team alone (its accuracy rows only); --long-csv writes numbers as numbers; the table masks controls', async () => {
    const acc = join(dir, 'acc-team.csv');
    writeFileSync(acc, 'team,case,metric,value\nalpha,c1,DSC,0.9\nbeta,c1,DSC,0.8\nalpha,c1,NSD,0.9\nbeta,c1,NSD,0.8\n');
    const one = JSON.parse((await cli(['rank', '--db', db.path, '--accuracy', acc, '--team', 'alpha', '--json', '--bootstrap', '0'])).stdout) as { teams: { team: string }[] };
    expect(one.teams.map((t) => t.team)).toEqual(['alpha']);
    // Negative values (a lower-is-better metric's) are numbers, not formulas: no quote.
    const neg = join(dir, 'acc-neg.csv');
    writeFileSync(neg, 'team,case,metric,value\nalpha,c1,DSC,-0.25\nbeta,c1,DSC,-1\n');
    const long = join(dir, 'long-neg.csv');
    // A profile whose DSC has no range (the shipped ones bound it to [0, 1]).
    const shipped = JSON.parse(readFileSync(join(import.meta.dirname, '../../profiles/flare22.json'), 'utf8')) as { name: string; ranking: { metrics: { metric: string; range?: unknown }[] } };
    for (const m of shipped.ranking.metrics) delete m.range;
    const unbounded = join(dir, 'unbounded.json');
    writeFileSync(unbounded, JSON.stringify({ ...shipped, name: 'unbounded' }));
    const r = await cli(['rank', '--db', db.path, '--accuracy', neg, '--long-csv', long, '--bootstrap', '0', '--profile', unbounded]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(long, 'utf8').trim().split('\n');
    expect(lines).toContain('alpha,c1,DSC,-0.25');
    expect(lines).toContain('beta,c1,DSC,-1');
    expect(lines.join('\n')).not.toContain("'");
    // A team name with a C1 control and a bidi override: masked on the terminal.
    const hostile = tempStore();
    try {
      fill(hostile.store, [run('r-h', { team: 'ev\u202eil\u0085x', case: 'c1' })]);
      const t = await cli(['rank', '--db', hostile.path, '--bootstrap', '0']);
      expect(t.code, t.stderr).toBe(0);
      expect(t.stdout).toContain('ev?il?x');
      expect(t.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e]/);
    } finally {
      hostile.cleanup();
    }
  });
});
