// `flare-agent export`: FLARE efficiency CSVs, a runs table, or JSON, from the database or an agent.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { Option, type Command } from 'commander';
import type { Run, RunFilter } from '../core/types.js';
import { runsCsv, SAMPLE_CSV_HEADER, sampleCsvLine, sampleJson } from '../export/csv.js';
import { FLARE_FILE_SUFFIX, flareCsv, type FlareFigures, type FlareLayout } from '../export/flare-csv.js';
import { uniqueFileNames } from '../export/file-names.js';
import { runAction } from './action.js';
import { addSourceOptions, filterFromOptions, openRunSource, type RunSource } from './run-source.js';
import { BUILTIN_PROFILES, DEFAULT_PROFILE, type ChallengeProfile } from '../scoring/challenge-profile.js';
import { profileFromOption } from '../scoring/challenge-profile-option.js';
import { runToJson } from '../http/run-json.js';
import { needsTeamColumn } from '../http/query.js';

type Format = FlareLayout | 'csv' | 'json';


/** The profile named by --profile (default: the layout's own year); a bad file is a usage error naming the field. */

interface FlareChoice {
  layout: FlareLayout;
  figures: FlareFigures;
  profile: ChallengeProfile;
  profileArg: string;
}

/** Exclusive creation: a second file of one export under a name the filesystem folds to the first fails, never overwrites it. */
const EXCLUSIVE = { flag: 'wx' } as const;

/**
 * Writes an export's files all or none: `write` fills a fresh staging folder inside `out` (names
 * relative to it, each created exclusively), and only when every file is written are they renamed
 * into `out` (same filesystem: each rename is atomic, and replaces an earlier export's file of that
 * name). A failure part-way (the agent busy past the wait, a lost connection) leaves `out` as it was.
 */
async function staged(out: string, write: (dir: string) => Promise<string[]>): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const stage = mkdtempSync(join(out, '.flare-export-'));
  try {
    const names = await write(stage);
    for (const name of names) {
      mkdirSync(dirname(join(out, name)), { recursive: true });
      renameSync(join(stage, name), join(out, name));
    }
    return names.map((n) => join(out, n));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** One file per team in the official naming (<team>_Efficiency.csv), each created once (names relative to `out`). */
async function writeFlare(out: string, runs: Run[], c: FlareChoice, source: RunSource, filter: RunFilter): Promise<string[]> {
  const byTeam = new Map<string, Run[]>();
  for (const r of runs) byTeam.set(r.team, [...(byTeam.get(r.team) ?? []), r]);
  // Distinct names for distinct teams, even where sanitising would merge them (a/b and a_b).
  const names = uniqueFileNames([...byTeam.keys()], FLARE_FILE_SUFFIX);
  const files: string[] = [];
  for (const [team, teamRuns] of [...byTeam].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const file = names.get(team)!;
    const csv = c.figures === 'official' ? await source.officialCsv({ ...filter, team: [team] }, c.profile, c.profileArg, false) : flareCsv(teamRuns, c.layout, false);
    writeFileSync(join(out, file), csv, EXCLUSIVE);
    files.push(file);
  }
  return files;
}

/** The runs table plus every run's samples (samples/<id>.csv|json), each streamed to its file (names relative to `out`). */
async function writeRunsWithSamples(out: string, runs: Run[], source: RunSource, format: 'csv' | 'json'): Promise<string[]> {
  const files: string[] = [];
  const table = `runs.${format}`;
  writeFileSync(join(out, table), format === 'csv' ? runsCsv(runs.map(runToJson)) : JSON.stringify(runs.map(runToJson), null, 2) + '\n', EXCLUSIVE);
  files.push(table);
  mkdirSync(join(out, 'samples'), { recursive: true });
  // Run ids come from other agents too (collect): one name each, distinct even on a case-folding filesystem.
  const names = uniqueFileNames(runs.map((r) => r.id), `.${format}`);
  for (const run of runs) {
    const file = join('samples', names.get(run.id)!);
    const ws = createWriteStream(join(out, file), { flags: EXCLUSIVE.flag });
    const write = async (s: string): Promise<void> => {
      if (!ws.write(s)) await once(ws, 'drain');
    };
    let i = 0;
    await write(format === 'csv' ? SAMPLE_CSV_HEADER : `{"runId":${JSON.stringify(run.id)},"samples":[`);
    for (const s of await source.samples(run)) {
      await write(format === 'csv' ? sampleCsvLine(run, s) : (i++ > 0 ? ',' : '') + JSON.stringify(sampleJson(run, s)));
    }
    if (format === 'json') await write(']}\n');
    ws.end();
    await once(ws, 'close');
    files.push(file);
  }
  return files;
}

export function register(program: Command): void {
  const cmd = addSourceOptions(program.command('export').description('export FLARE efficiency CSVs, a runs table or JSON'))
    .addOption(new Option('--format <format>', 'flare22, flare24 (official layouts), csv or json').choices(['flare22', 'flare24', 'csv', 'json']).makeOptionMandatory())
    .addOption(new Option('--figures <figures>', 'FLARE CSVs: our exact per-container figures, or the official-compatible ones').choices(['exact', 'official']).default('exact'))
    .option('--profile <name|file>', `official figures: a challenge profile (${BUILTIN_PROFILES.join(', ')}) or a profile .json file; default the layout's year`)
    .option('--out <dir>', 'write files into this directory (FLARE: one <team>_Efficiency.csv per team; csv/json: runs table + samples/) instead of stdout');
  cmd.action((opts: Record<string, unknown>) =>
    runAction(cmd, async () => {
      const format = opts.format as Format;
      const figures = opts.figures as FlareFigures;
      const filter = filterFromOptions(opts);
      const flare = format === 'flare22' || format === 'flare24';
      const profileArg = (opts.profile as string | undefined) ?? (flare ? format : DEFAULT_PROFILE);
      const profile = profileFromOption(profileArg);
      const choice: FlareChoice | null = flare ? { layout: format, figures, profile, profileArg } : null;
      const source = openRunSource(opts);
      try {
        // Only finished runs have final figures; the runs table keeps running ones too.
        const runs = (await source.runs(filter)).sort((a, b) => a.startedWallMs - b.startedWallMs || (a.id < b.id ? -1 : 1));
        const out = opts.out as string | undefined;
        if (out === undefined) {
          if (choice) {
            const withTeam = needsTeamColumn(filter);
            process.stdout.write(figures === 'official' ? await source.officialCsv(filter, profile, profileArg, withTeam) : flareCsv(runs, format as FlareLayout, withTeam));
          }
          else if (format === 'csv') process.stdout.write(runsCsv(runs.map(runToJson)));
          else process.stdout.write(JSON.stringify(runs.map(runToJson), null, 2) + '\n');
          return;
        }
        const files = await staged(out, (dir) => (choice ? writeFlare(dir, runs, choice, source, filter) : writeRunsWithSamples(dir, runs, source, format as 'csv' | 'json')));
        process.stderr.write(`flare-agent export: wrote ${files.length} file(s) to ${out}\n`);
      } finally {
        source.close();
      }
    }),
  );
}
