// `evaluate --gt`: the team's outputs scored against the ground truth once every case has run (not
// while they run: scoring takes CPU, and a case's own CPU and time must be measured on a quiet node),
// so one harness run gives accuracy, efficiency and, with rank, the ranking. Writes
// <team>_DSC_NSD.csv (the official layout) and <team>_accuracy.csv (the long rows rank reads), and with
// --accuracy-csv FILE replaces this team's rows in that shared long file (written to a temporary name
// and renamed, so an agent ranking with `--accuracy-csv FILE` reads it whole, the next request on).
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { scoreAll } from '../accuracy/pool.js';
import { longCsv, longRows, officialCsv, type CaseScores } from '../accuracy/report.js';
import { accuracyRulesOf, NoAccuracyRulesError, type AccuracyRules } from '../accuracy/rules.js';
import { UsageError } from '../commands/action.js';
import type { ChallengeProfile } from '../scoring/profile.js';
import { splitCsvLine } from '../scoring/accuracy-table.js';
import { safeName } from '../plot/files.js';

/** The profile's accuracy rules; a profile without them is bad usage of `flag`. */
export function accuracyRulesOrUsage(profile: ChallengeProfile, flag: string): AccuracyRules {
  try {
    return accuracyRulesOf(profile);
  } catch (err) {
    if (err instanceof NoAccuracyRulesError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

export interface TeamAccuracy {
  officialCsv: string;
  longCsv: string;
  scored: number;
  failed: string[];
  missing: string[];
}

export async function scoreTeamOutputs(o: { gtDir: string; outputsDir: string; rules: AccuracyRules; team: string; outDir: string; mergeInto: string | null }, log: (line: string) => void): Promise<TeamAccuracy> {
  const rules = o.rules;
  const nifti = (dir: string): string[] => readdirSync(dir).filter((f) => /\.nii(\.gz)?$/.test(f)).sort();
  const preds = nifti(o.outputsDir);
  const missing = nifti(o.gtDir).filter((f) => !preds.includes(f));
  const results = await scoreAll(
    preds.map((file) => ({ file, gtDir: o.gtDir, predDir: o.outputsDir, organs: rules.organs, version: rules.version })),
    availableParallelism(),
    (r, done) => log(`accuracy ${done}/${preds.length} ${r.file} ${'error' in r ? `error: ${r.error}` : `${r.seconds.toFixed(2)} s`}`),
  );
  const scored = results.filter((r): r is CaseScores & (typeof results)[number] => 'scores' in r).sort((a, b) => (a.file < b.file ? -1 : 1));
  const out = { officialCsv: join(o.outDir, `${safeName(o.team)}_DSC_NSD.csv`), longCsv: join(o.outDir, `${safeName(o.team)}_accuracy.csv`) };
  writeFileSync(out.officialCsv, officialCsv(scored, rules));
  const rows = longRows(o.team, scored, rules);
  writeFileSync(out.longCsv, longCsv(rows));
  if (o.mergeInto) mergeTeamRows(o.mergeInto, o.team, longCsv(rows));
  return { ...out, scored: scored.length, failed: results.filter((r) => 'error' in r).map((r) => r.file), missing };
}

/** Replaces `team`'s rows of a shared long CSV (team,case,metric,value) with `rows` (a long CSV of that team), atomically. */
export function mergeTeamRows(path: string, team: string, rows: string): void {
  const nfc = team.normalize('NFC');
  const kept: string[] = [];
  if (existsSync(path)) {
    const lines = readFileSync(path, 'utf8').split(/\r?\n/);
    const teamCol = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase()).indexOf('team');
    for (const line of lines.slice(1)) if (line.trim() !== '' && (splitCsvLine(line)[teamCol] ?? '').trim().normalize('NFC') !== nfc) kept.push(line);
  }
  const [header, ...mine] = rows.trimEnd().split('\n');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, [header, ...kept, ...mine].join('\n') + '\n');
  renameSync(tmp, path);
}
