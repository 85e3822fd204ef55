// `evaluate --gt`: the team's outputs scored against the ground truth once every case has run (not
// while they run: scoring takes CPU, and a case's own CPU and time must be measured on a quiet node),
// so one harness run gives accuracy, efficiency and, with rank, the ranking. Writes
// <team>_DSC_NSD.csv (the official layout) and <team>_accuracy.csv (the long rows rank reads), and with
// --accuracy-csv FILE replaces this team's rows in that shared long file (written to a temporary name
// and renamed, so an agent ranking with `--accuracy-csv FILE` reads it whole, the next request on).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { scoreFolder } from '../accuracy/folder.js';
import { longCsv, longRows, officialCsv } from '../accuracy/report.js';
import { accuracyRulesOf, NoAccuracyRulesError, type AccuracyRules } from '../accuracy/rules.js';
import { UsageError } from '../usage-error.js';
import type { ChallengeProfile } from '../scoring/challenge-profile.js';
import { splitCsvLine } from '../scoring/accuracy-table.js';
import { safeName } from '../export/file-names.js';

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

export async function scoreTeamOutputs(
  o: { gtDir: string; outputsDir: string; rules: AccuracyRules; team: string; outDir: string; mergeInto: string | null },
  log: (line: string) => void,
): Promise<TeamAccuracy> {
  const rules = o.rules;
  const { scored, failed, missing } = await scoreFolder(o.gtDir, o.outputsDir, rules, availableParallelism(), (r, done, total) =>
    log(`accuracy ${done}/${total} ${r.file} ${'error' in r ? `error: ${r.error}` : `${r.seconds.toFixed(2)} s`}`),
  );
  const out = { officialCsv: join(o.outDir, `${safeName(o.team)}_DSC_NSD.csv`), longCsv: join(o.outDir, `${safeName(o.team)}_accuracy.csv`) };
  writeFileSync(out.officialCsv, officialCsv(scored, rules));
  const rows = longRows(o.team, scored, rules);
  writeFileSync(out.longCsv, longCsv(rows));
  if (o.mergeInto) mergeTeamRows(o.mergeInto, o.team, longCsv(rows));
  return { ...out, scored: scored.length, failed: failed.map((f) => f.file), missing };
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
