// `flare-agent accuracy`: DSC and NSD per organ of a folder of predictions against the ground truth,
// as the official FLARE evaluation computes them (docs/scoring.md, "Accuracy"), cases scored in
// parallel worker threads. Writes the official CSV (--out), the long rows rank reads (--long), one
// JSON object per case (--json), a progress line per case on stderr.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { FolderError, scoreFolder } from '../accuracy/folder.js';
import { longRows, longCsv, officialCsv } from '../accuracy/report.js';
import { accuracyRulesOrUsage } from '../evaluate/accuracy.js';
import { profileFromOption } from '../scoring/challenge-profile-option.js';
import { maskUnsafe } from '../core/text.js';
import { runAction } from './action.js';
import { UsageError } from '../usage-error.js';

export function register(program: Command): void {
  const cmd = program
    .command('accuracy')
    .description('DSC and NSD per organ of predicted label maps against the ground truth (the official FLARE evaluation)')
    .requiredOption('--gt <dir>', 'ground-truth label maps (<case>.nii.gz)')
    .requiredOption('--pred <dir>', 'predicted label maps, same file names; the cases are this folder\'s files')
    .option('--profile <name|file>', 'challenge profile with accuracy rules: flare22 (the current official script), flare22-2022 (as the 2022 challenge ran it) or a profile file', 'flare22')
    .option('--team <name>', 'team name for --long (default: the prediction folder\'s name)')
    .option('--out <file>', 'write the official CSV (Name, <organ>_DSC ×13, <organ>_NSD ×13) here')
    .option('--long <file>', 'write team,case,metric,value rows (mean DSC and NSD per case, then every organ) for rank --accuracy')
    .option('--json', 'print one JSON object per case on stdout')
    .option('--threads <n>', `cases scored at once (default: the cores, ${availableParallelism()})`);
  cmd.action((opts: Record<string, string | boolean | undefined>) =>
    runAction(cmd, async () => {
      const gtDir = opts.gt as string;
      const predDir = opts.pred as string;
      const rules = accuracyRulesOrUsage(profileFromOption(opts.profile as string), '--profile');
      const threads = opts.threads === undefined ? availableParallelism() : Number(opts.threads);
      if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new UsageError('--threads: expected an integer 1 to 256');
      const t0 = performance.now();
      let folder;
      try {
        folder = await scoreFolder(gtDir, predDir, rules, threads, (r, done, total) => {
          const what = 'error' in r ? `error: ${maskUnsafe(r.error)}` : `${r.seconds.toFixed(2)} s`;
          process.stderr.write(`flare-agent accuracy: ${done}/${total} ${maskUnsafe(r.file)} ${what}\n`);
          if ('scores' in r) for (const s of r.scores.filter((x) => x.note)) process.stderr.write(`flare-agent accuracy: warning: ${maskUnsafe(r.file)} ${s.organ}: ${s.note} (the official script cannot score it; scored on the ground truth's one slice)\n`);
          if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
        });
      } catch (err) {
        if (err instanceof FolderError) throw new UsageError(`--${err.dir === gtDir ? 'gt' : 'pred'}: ${err.message}`);
        throw err;
      }
      const { scored, missing } = folder;
      // A ground truth with no prediction is not scored (as the official script), but said.
      for (const f of missing) process.stderr.write(`flare-agent accuracy: no prediction for ${maskUnsafe(f)}: not scored\n`);
      if (opts.out) writeFileSync(opts.out as string, officialCsv(scored, rules));
      if (opts.long) {
        const team = (opts.team as string | undefined) ?? predDir.replace(/\/+$/, '').split('/').pop() ?? 'team';
        writeFileSync(opts.long as string, longCsv(longRows(team, scored, rules)));
      }
      const failed = folder.failed.length;
      process.stderr.write(`flare-agent accuracy: ${scored.length} case(s) scored, ${failed} failed, ${missing.length} without prediction, in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      if (failed > 0) process.exitCode = 1;
    }),
  );
}
