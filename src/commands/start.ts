// `flare-agent start`: the long-running daemon.
//
// Exit codes: 0 after a clean stop (SIGTERM or SIGINT); 2 when the start fails (one line on stderr
// saying what failed, after everything started so far was undone, the lock last); 1 when a stop
// fails, or is forced by a second signal or by the stop deadline. Signals are handled from the first
// moment: one that arrives while the agent is starting stops it as soon as the start has finished
// or unwound, and STOP_DEADLINE_MS after the first signal the process exits whatever it is doing
// (the runs whose verdicts were not written by then are settled at the next start).
// The lock file goes with every exit but a SIGKILL (an 'exit' hook, store/lock.ts); after a
// SIGKILL the kernel drops the lock itself and the next start reuses the file.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ErrorCounter } from '../agent/errors.js';
import type { RunningAgent } from '../daemon/agent.js';
import { checkServing, resolveConfig } from '../config.js';
import { createLogger } from '../log.js';
import { addConfigOptions, flagValues } from './options.js';

/**
 * How long a stop may take after the first signal before the process exits anyway. A blocking
 * SQLite write (store/open.ts WRITE_BUSY_TIMEOUT_MS, 0.5 s) can delay both the signal's handler and
 * this timer once: 4 s keeps the whole within 5 s.
 */
export const STOP_DEADLINE_MS = 4000;

export function register(program: Command): void {
  const cmd = program.command('start').description('run the agent: sample the node and the selected containers, serve the API, /metrics and the web page');
  addConfigOptions(cmd);
  cmd.action(async (opts: Record<string, unknown>) => {
    const config = resolveConfig(flagValues(opts), process.env, opts.config as string | undefined);
    checkServing(config);
    const log = createLogger(config.logLevel);
    const errors = new ErrorCounter(log);
    // After the start nothing is fatal: logged with its stack and counted (agent/errors.ts).
    process.on('unhandledRejection', (reason) => errors.note('unhandled-rejection', reason));
    process.on('uncaughtException', (err) => errors.note('uncaught', err));
    // The unsafe switches are never silent (docs/security.md).
    if (config.unsafeTrustImageLabels) log.warn('UNSAFE: flare.* labels baked into images are trusted: any image can claim any team (--unsafe-trust-image-labels)');
    if (config.unsafeListenWithoutToken && config.token === null) log.warn('UNSAFE: serving without a token (--unsafe-listen-without-token): anyone who can reach the port reads every run', { listen: config.listen });
    let agent: RunningAgent | null = null;
    let signalled: string | null = null;
    const stopAndExit = (a: RunningAgent): void => {
      a.stop().then(
        () => process.exit(0),
        (err: Error) => {
          log.error('stop failed', { error: err.message });
          process.exit(1);
        },
      );
    };
    const shutdown = (signal: string): void => {
      if (signalled) {
        log.warn('second signal: exiting now', { signal, first: signalled });
        process.exit(1);
      }
      signalled = signal;
      log.info('stopping', { signal, while: agent ? 'running' : 'starting' });
      setTimeout(() => {
        log.error(`not stopped ${STOP_DEADLINE_MS / 1000} s after ${signal}: exiting`);
        process.exit(1);
      }, STOP_DEADLINE_MS).unref();
      if (agent) stopAndExit(agent);
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    try {
      // Loaded here, not at the top: every other command starts without the agent's modules.
      const [{ startAgent }, { runtimesFor }] = await Promise.all([import('../daemon/agent.js'), import('../runtime/registry.js')]);
      const runtimes = await runtimesFor(config, existsSync, log);
      agent = await startAgent(config, log, runtimes.attachments, { settle: runtimes.settle, errors });
    } catch (err) {
      // Unwound already: say what failed in one line and exit, whatever handle might still be open.
      process.stderr.write(`flare-agent: ${(err as Error).message.split('\n')[0]}\n`);
      process.exit(2);
    }
    if (signalled) stopAndExit(agent);
  });
}
