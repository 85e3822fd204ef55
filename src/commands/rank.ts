// `flare-agent rank`: FLARE's rank-then-aggregate over the stored runs' efficiency and, with
// --accuracy, the organisers' DSC/NSD CSV (docs/scoring.md, "Ranking").
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { csvLine, formatNumber } from '../export/csv.js';
import { longFormatRows, type BootstrapResult } from '../scoring/bootstrap.js';
import { runAction } from './action.js';
import { UsageError } from '../usage-error.js';
import { addSourceOptions, filterFromOptions, openRunSource } from './run-source.js';
import { readAccuracyFile } from '../scoring/accuracy-file.js';
import { AccuracyFitError, gpuAucFromTrace, rankingBootstrap, rankRuns, runsNeedingTrace, type RankedRuns } from '../scoring/rank-runs.js';
import { maskUnsafe } from '../core/text.js';
import { DEFAULT_PROFILE } from '../scoring/challenge-profile.js';
import type { Ranking } from '../scoring/rank.js';
import { AccuracyTable } from '../scoring/accuracy-table.js';
import { profileFromOption } from '../scoring/challenge-profile-option.js';

export function readAccuracy(file: string): AccuracyTable {
  try {
    return readAccuracyFile(file);
  } catch (err) {
    throw new UsageError(`--accuracy: ${(err as Error).message}`);
  }
}

/** A team name on the terminal: C0/C1 and bidi controls shown as '?' (core/text.ts), bounded. */
const clean = (s: string): string => maskUnsafe(s).slice(0, 60);

export function rankingTable(r: Ranking, boot: BootstrapResult | null): string {
  const head = ['RANK', 'TEAM', 'SCORE', ...r.metrics.map((m) => `${m.toUpperCase()}_RANK`), 'MISSING_CASES', ...(boot ? ['MEDIAN_RANK', 'RANK_95%', 'P_TOP3'] : [])];
  const u = new Map(boot?.teams.map((t) => [t.team, t]));
  const rows = r.teams.map((t) => {
    const b = u.get(t.team);
    const extra = boot ? [formatNumber(b?.medianRank, 1), b ? `${formatNumber(b.rankLow, 1)}–${formatNumber(b.rankHigh, 1)}` : '', formatNumber(b?.pTop3, 3)] : [];
    return [String(t.rank), clean(t.team), formatNumber(t.score, 4), ...r.metrics.map((m) => formatNumber(t.meanRankByMetric[m], 3)), String(t.missingCases), ...extra];
  });
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((row) => row[i].length)));
  const lines = [head, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  if (r.skippedMetrics.length > 0) lines.push(`skipped (no values): ${r.skippedMetrics.join(', ')}`);
  if (boot) lines.push(`bootstrap: ${boot.resamples} resamples of the cases (seed ${boot.seed}); Kendall's tau vs the full ranking: median ${formatNumber(boot.kendallTau.median, 3)}, 95 % ${formatNumber(boot.kendallTau.low, 3)}–${formatNumber(boot.kendallTau.high, 3)}`);
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  const cmd = addSourceOptions(program.command('rank').description('rank teams: per case and metric, then the weighted mean of ranks (FLARE)'))
    .option('--profile <name|file>', 'challenge profile: metrics, weights, worst values, ties', DEFAULT_PROFILE)
    .option('--accuracy <csv>', 'accuracy values, CSV with columns team,case,metric,value (DSC, NSD, …)')
    .option('--bootstrap <n>', 'resamples of the cases for rank intervals (0: none)', '1000')
    .option('--seed <n>', 'bootstrap seed', '1')
    .option('--long-csv <file>', 'also write the ranked values in challengeR\'s long format (team,case,metric,value)')
    .option('--repeats', 'every finished run of a case is a repeat: rank the medians, and let the bootstrap draw repeats')
    .option('--json', 'print the ranking as JSON');
  cmd.action((opts: Record<string, unknown>) =>
    runAction(cmd, async () => {
      const profile = profileFromOption(opts.profile as string);
      const resamples = Number(opts.bootstrap);
      if (!Number.isInteger(resamples) || resamples < 0 || resamples > 100_000) throw new UsageError('--bootstrap: expected an integer 0 to 100000');
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError('--seed: expected an integer 0 to 4294967295');
      const accuracy = opts.accuracy === undefined ? AccuracyTable.empty() : readAccuracy(opts.accuracy as string);
      const filter = filterFromOptions(opts);
      const source = openRunSource(opts);
      try {
        const runs = await source.scoringRuns(filter);
        const repeats = opts.repeats === true;
        // Runs measured with another GPU tolerance than the profile's: integrated again from their trace.
        const gpuAucByRun = new Map<string, number | null>();
        for (const r of runsNeedingTrace(runs, profile, repeats)) gpuAucByRun.set(r.id, gpuAucFromTrace(await source.samples(r), profile));
        let ranked: RankedRuns;
        try {
          ranked = rankRuns({ runs, filter, profile, accuracy, repeats, gpuAucByRun });
        } catch (err) {
          if (err instanceof AccuracyFitError) throw new UsageError(`--accuracy: ${err.message}`);
          throw err;
        }
        const { ranking, values, warnings } = ranked;
        for (const w of warnings) process.stderr.write(`flare-agent rank: warning: ${maskUnsafe(w)}\n`);
        const boot = rankingBootstrap(ranked, resamples, seed);
        if (opts.longCsv !== undefined) {
          let csv = csvLine(['team', 'case', 'metric', 'value']);
          // A failed or missing case has no number: NA, which challengeR reads as missing (rank it last with na.treat).
          for (const row of longFormatRows(values, profile.ranking.metrics)) csv += csvLine([row.team, row.case, row.metric, row.value ?? 'NA'], 9);
          writeFileSync(opts.longCsv as string, csv);
        }
        process.stdout.write(opts.json ? JSON.stringify({ profile: profile.name, ...ranking, bootstrap: boot, warnings }, null, 2) + '\n' : rankingTable(ranking, boot));
      } finally {
        source.close();
      }
    }),
  );
}
