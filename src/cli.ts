#!/usr/bin/env node
// flare-agent command line. Exit codes: 0 ok, 1 failure, 2 bad usage (with a one-line reason).
import type { Command } from 'commander';
import { VERSION } from './version.js';

type Register = (program: Command) => void;

/**
 * The commands in the order `--help` lists them, each loaded only when it runs: a command's modules
 * (the agent's, the store's, the plotter's) are most of a start-up, and `accuracy` or `runs` need
 * none of the others'.
 */
const COMMANDS: [string, () => Promise<{ register: Register }>][] = [
  ['start', () => import('./commands/start.js')],
  ['profile', () => import('./commands/profile.js')],
  ['runs', () => import('./commands/runs.js')],
  ['export', () => import('./commands/export.js')],
  ['collect', () => import('./commands/collect.js')],
  ['plot', () => import('./commands/plot.js')],
  ['evaluate', () => import('./commands/evaluate.js')],
  ['rank', () => import('./commands/rank.js')],
  ['accuracy', () => import('./commands/accuracy.js')],
];

// `flare-agent export … | head -1`: the reader closed the pipe, nothing more can be written. That is
// the reader's choice, not a failure: exit quietly with the code the command has set (profile's is
// the measured command's), never with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
}

/** Errors that are bad usage (exit 2): their modules loaded only when something failed, not for every start. */
async function isUsageError(e: unknown): Promise<boolean> {
  const [{ ConfigError }, { ForeignDatabaseError, DbLinkError, DbLockedError }] = await Promise.all([import('./config.js'), import('./store/index.js')]);
  return e instanceof ConfigError || e instanceof ForeignDatabaseError || e instanceof DbLockedError || e instanceof DbLinkError;
}

/** Every invocation but a bare `--version`: commander and the command that runs. */
async function main(): Promise<void> {
  const { Command, CommanderError } = await import('commander');
  const { refuseRepeatedOptions } = await import('./commands/repeat.js');
  const program = new Command('flare-agent')
    .description('Per-container GPU memory, CPU and RAM measurement for challenge evaluation (MICCAI FLARE)')
    .version(VERSION)
    .enablePositionalOptions()
    .exitOverride();

  try {
    // The command is the first word (the program's own options are --help and --version only); with
    // none, or one that is not a command, every command is registered for the help or the error.
    const first = process.argv[2];
    const named = COMMANDS.find(([name]) => name === first);
    const version = first === '--version' || first === '-V';
    for (const load of named ? [named[1]] : version ? [] : COMMANDS.map(([, l]) => l)) (await load()).register(program);
    refuseRepeatedOptions(program);
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
    } else if (await isUsageError(e)) {
      process.stderr.write(`flare-agent: ${(e as Error).message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`flare-agent: ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}

// `--version` alone prints before anything else loads (commander's modules are most of its start-up):
// a liveness check or a fleet inventory that asks it of every node is answered in node's own start time.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) process.stdout.write(`${VERSION}\n`);
else await main();
