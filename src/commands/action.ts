// How every command reports failure: usage errors (a foreign database file among them) exit 2 with one
// line, other failures exit 1.
import type { Command } from 'commander';
import { UsageError } from '../usage-error.js';

/** Runs an action, turning errors into the CLI's exit codes: 2 for usage (one line), 1 for failures. */
export async function runAction(cmd: Command, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof UsageError) cmd.error(`flare-agent ${cmd.name()}: ${err.message}`, { exitCode: 2, code: 'flare.usage' });
    process.stderr.write(`flare-agent ${cmd.name()}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
