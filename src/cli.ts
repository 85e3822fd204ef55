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
import { register as registerAccuracy } from './commands/accuracy.js';
import { refuseRepeatedOptions } from './commands/repeat.js';

// `flare-agent export … | head -1`: the reader closed the pipe, nothing more can be written. That is
// the reader's choice, not a failure: exit quietly with the code the command has set (profile's is
// the measured command's), never with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
}

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
registerAccuracy(program);
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
