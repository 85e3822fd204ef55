// `flare-agent start`: the long-running daemon.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { startAgent, type RunningAgent } from '../agent/agent.js';
import { checkServing, resolveConfig } from '../config.js';
import { runtimeAttachments } from '../containerd/runtime.js';
import { createDockerClient } from '../docker/client.js';
import { dockerSettler } from '../docker/settle.js';
import { createLogger } from '../log.js';
import { addConfigOptions, flagValues } from './options.js';


export function register(program: Command): void {
  const cmd = program.command('start').description('run the agent: sample the node and the selected containers, serve the API, /metrics and the web page');
  addConfigOptions(cmd);
  cmd.action(async (opts: Record<string, unknown>) => {
    const config = resolveConfig(flagValues(opts), process.env, opts.config as string | undefined);
    checkServing(config);
    const log = createLogger(config.logLevel);
    // The unsafe switches are never silent (docs/security.md).
    if (config.unsafeTrustImageLabels) log.warn('UNSAFE: flare.* labels baked into images are trusted: any image can claim any team (--unsafe-trust-image-labels)');
    if (config.unsafeListenWithoutToken && config.token === null) log.warn('UNSAFE: serving without a token (--unsafe-listen-without-token): anyone who can reach the port reads every run', { listen: config.listen });
    // Signals are handled from the first moment: one that arrives while the agent is still starting
    // stops it as soon as it is up, instead of killing the process with runs half-written.
    let stopSignal: string | null = null;
    let agent: RunningAgent | null = null;
    const shutdown = (signal: string): void => {
      if (stopSignal) return;
      stopSignal = signal;
      if (!agent) return;
      log.info('stopping', { signal });
      agent.stop().then(
        () => process.exit(0),
        (err: Error) => {
          log.error('stop failed', { error: err.message });
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    agent = await startAgent(config, log, runtimeAttachments(config, existsSync), { settle: dockerSettler(createDockerClient(config.dockerHost)) });
    if (stopSignal) {
      const signal: string = stopSignal;
      stopSignal = null;
      shutdown(signal);
    }
  });
}
