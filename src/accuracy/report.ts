// The accuracy command's outputs from per-case scores. Pure.
//
// The official CSV: `Name`, then `<organ>_DSC` for every organ, then `<organ>_NSD`, each figure rounded
// as numpy rounds (4 decimals, half to even). The official script writes a figure its rules set
// without computing (both masks empty: 1; an organ only predicted: 0) as an integer, and pandas then
// writes a column that holds any computed figure with a decimal point (`1.0`) and one that holds only
// such integers without (`1`); the same is done here, so the files compare equal as text.
// The long rows are what `rank --accuracy` and `--accuracy-csv` read: per case the rule set's ranked
// metrics (the mean DSC and the mean NSD over the organs), then one row per organ and metric.
import { csvField, csvLine } from '../export/csv.js';
import { roundLikeNumpy } from './overlap.js';
import type { AccuracyRules } from './rules.js';
import type { OrganScore } from './score.js';

export interface CaseScores {
  /** The prediction's file name, as the official CSV's Name. */
  file: string;
  scores: OrganScore[];
}

/** Python's repr of a float: shortest round-trip digits, with `.0` on integers. */
const pyFloat = (x: number): string => (Number.isInteger(x) ? x.toFixed(1) : String(x));

export function officialCsv(cases: readonly CaseScores[], rules: AccuracyRules): string {
  const columns = (['dsc', 'nsd'] as const).flatMap((metric) => rules.organs.map((o, organ) => ({ head: `${o.name}_${metric.toUpperCase()}`, organ, metric })));
  // A figure a rule set is an integer in the official script; the DSC of the under-0.2 rule is computed.
  const computed = (s: OrganScore, metric: 'dsc' | 'nsd'): boolean => s.rule === undefined || (metric === 'dsc' && s.rule === 'dsc-below-0.2');
  const floatColumn = columns.map((c) => cases.some((cs) => computed(cs.scores[c.organ], c.metric)));
  const lines = [['Name', ...columns.map((c) => c.head)].join(',')];
  for (const cs of cases) {
    const cells = columns.map((c, k) => {
      const v = roundLikeNumpy(cs.scores[c.organ][c.metric], 4);
      return floatColumn[k] ? pyFloat(v) : String(v);
    });
    // A participant names the output files: csvField keeps a formula or bidi control out of the cell.
    lines.push([csvField(cs.file), ...cells].join(','));
  }
  return lines.join('\n') + '\n';
}

/** The case a prediction file scores: its name without `.nii.gz` (or `.nii`). */
export const caseOfFile = (file: string): string => file.replace(/\.nii(\.gz)?$/, '');

/** Long rows `team,case,metric,value`: the ranked means first, then every organ's DSC and NSD. */
export function longRows(team: string, cases: readonly CaseScores[], rules: AccuracyRules): { team: string; case: string; metric: string; value: number }[] {
  const out: { team: string; case: string; metric: string; value: number }[] = [];
  for (const cs of cases) {
    const c = caseOfFile(cs.file);
    const mean = (pick: (s: OrganScore) => number): number => cs.scores.reduce((sum, s) => sum + pick(s), 0) / cs.scores.length;
    for (const m of rules.rankedMetrics) out.push({ team, case: c, metric: m, value: mean(m === 'DSC' ? (s) => s.dsc : (s) => s.nsd) });
    for (const s of cs.scores) {
      out.push({ team, case: c, metric: `DSC_${s.organ}`, value: s.dsc });
      out.push({ team, case: c, metric: `NSD_${s.organ}`, value: s.nsd });
    }
  }
  return out;
}

/** Long rows as the CSV rank reads (values with every digit a double needs to read back the same). */
export function longCsv(rows: readonly { team: string; case: string; metric: string; value: number }[]): string {
  return csvLine(['team', 'case', 'metric', 'value']) + rows.map((r) => csvLine([r.team, r.case, r.metric, r.value], 17)).join('');
}
