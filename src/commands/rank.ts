// `flare-agent rank`: FLARE's rank-then-aggregate over the stored runs' efficiency and, with
// --accuracy, the organisers' DSC/NSD CSV (docs/scoring.md, "Ranking").
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { formatNumber } from '../http/csv.js';
import { addSourceOptions, filterFromOptions, openReader, runAction, UsageError } from '../http/reader.js';
import { AccuracyCsvError, efficiencyValues, parseAccuracyCsv } from '../scoring/inputs.js';
import { DEFAULT_PROFILE } from '../scoring/profile.js';
import { rankTeams, type MetricValue, type Ranking } from '../scoring/rank.js';
import { profileFromOption } from './export.js';

const MAX_ACCURACY_BYTES = 256 * 1024 * 1024;

export function readAccuracy(file: string): MetricValue[] {
  try {
    if (statSync(file).size > MAX_ACCURACY_BYTES) throw new UsageError(`--accuracy: larger than ${MAX_ACCURACY_BYTES} bytes`);
    return parseAccuracyCsv(readFileSync(file, 'utf8'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (err instanceof AccuracyCsvError) throw new UsageError(`--accuracy: ${err.message}`);
    throw new UsageError(`--accuracy: ${(err as Error).message}`);
  }
}

const clean = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 60);

export function rankingTable(r: Ranking): string {
  const head = ['RANK', 'TEAM', 'SCORE', ...r.metrics.map((m) => `${m.toUpperCase()}_RANK`), 'MISSING_CASES'];
  const rows = r.teams.map((t) => [String(t.rank), clean(t.team), formatNumber(t.score, 4), ...r.metrics.map((m) => formatNumber(t.meanRankByMetric[m], 3)), String(t.missingCases)]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((row) => row[i].length)));
  const lines = [head, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  if (r.skippedMetrics.length > 0) lines.push(`skipped (no values): ${r.skippedMetrics.join(', ')}`);
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  const cmd = addSourceOptions(program.command('rank').description('rank teams: per case and metric, then the weighted mean of ranks (FLARE)'))
    .option('--profile <name|file>', 'challenge profile: metrics, weights, worst values, ties', DEFAULT_PROFILE)
    .option('--accuracy <csv>', 'accuracy values, CSV with columns team,case,metric,value (DSC, NSD, …)')
    .option('--json', 'print the ranking as JSON');
  cmd.action((opts: Record<string, unknown>) =>
    runAction(cmd, async () => {
      const profile = profileFromOption(opts.profile as string);
      const accuracy = opts.accuracy === undefined ? [] : readAccuracy(opts.accuracy as string);
      const filter = filterFromOptions(opts);
      const reader = openReader(opts as { db?: string; url?: string; token?: string });
      try {
        const runs = await reader.runs(filter);
        const values = [...efficiencyValues(runs, profile), ...accuracy];
        const ranking = rankTeams(values, profile.ranking.metrics, profile.ranking.ties);
        process.stdout.write(opts.json ? JSON.stringify({ profile: profile.name, ...ranking }, null, 2) + '\n' : rankingTable(ranking));
      } finally {
        reader.close();
      }
    }),
  );
}
