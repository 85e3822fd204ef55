#!/usr/bin/env node
// flare-agent command line. Exit codes: 0 ok, 1 failure, 2 bad usage (with a one-line reason).
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config.js';
import { ForeignDatabaseError } from './store/errors.js';
import { DbLinkError, DbLockedError } from './store/lock.js';
import { VERSION } from './version.js';
import { register as registerProfile } from './commands/profile.js';
import { register as registerStart } from './commands/start.js';
import { register as registerRuns } from './commands/runs.js';
import { register as registerExport } from './commands/export.js';
import { register as registerCollect } from './commands/collect.js';
import { register as registerPlot } from './commands/plot.js';
import { register as registerEvaluate } from './commands/evaluate.js';
import { register as registerRank } from './commands/rank.js';
import { refuseRepeatedOptions } from './commands/repeat.js';

const program = new Command('flare-agent')
  .description('Per-container GPU memory, CPU and RAM measurement for challenge evaluation (MICCAI FLARE)')
  .version(VERSION)
  .enablePositionalOptions()
  .exitOverride();

registerStart(program);
registerProfile(program);
registerRuns(program);
registerExport(program);
registerCollect(program);
registerPlot(program);
registerEvaluate(program);
registerRank(program);
refuseRepeatedOptions(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof ConfigError || e instanceof ForeignDatabaseError || e instanceof DbLockedError || e instanceof DbLinkError) {
    process.stderr.write(`flare-agent: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`flare-agent: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
