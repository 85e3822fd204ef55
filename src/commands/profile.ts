// `flare-agent profile [options] -- <command…>`
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveConfig } from '../config.js';
import { createLogger } from '../log.js';
import { runProfile } from '../profile/run-profile.js';
import { openStore } from '../store/index.js';
import { formatSummaryTable } from './format.js';
import { addConfigOptions, flagValues } from './options.js';

const SAMPLING_KEYS = ['db', 'intervalMs', 'timeLimit', 'gpuToleranceMib', 'gpuSource', 'nvmlLib', 'penaltyTimeSeconds', 'penaltyAucGpuMibs', 'penaltyAucCpuPcts', 'logLevel'] as const;

export function register(program: Command): void {
  const cmd = program
    .command('profile')
    .description('run one command in a cgroup of its own, sample it like a container and print its summary')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--json', 'print the summary as one JSON object')
    .option('--team <name>', 'team to record the run under', 'profile')
    .option('--case <name>', 'case to record the run under (default: the command name)')
    .option('--no-cgroup', 'follow the process tree through /proc instead of a cgroup of its own (less exact: see README)')
    .passThroughOptions();
  addConfigOptions(cmd, SAMPLING_KEYS);
  cmd.action(async (command: string[], opts: Record<string, unknown>) => {
    const config = resolveConfig(flagValues(opts), process.env, opts.config as string | undefined);
    const log = createLogger(config.logLevel, (l) => process.stderr.write(l));
    // Without --db the run is measured in a scratch database and forgotten.
    const keep = opts.db !== undefined || process.env.FLARE_AGENT_DB !== undefined;
    const scratch = keep ? null : mkdtempSync(join(tmpdir(), 'flare-profile-'));
    const store = openStore(scratch ? join(scratch, 'profile.db') : config.db);
    try {
      const result = await runProfile(config, store, { command, team: opts.team as string, caseName: opts.case as string | undefined, noCgroup: opts.cgroup === false }, log);
      const { summary, ...identity } = result.run;
      if (opts.json) process.stdout.write(JSON.stringify({ ...summary, id: identity.id, team: identity.team, case: identity.case, node: identity.node, command: identity.command, method: result.method }) + '\n');
      else process.stderr.write(formatSummaryTable(result.run, result.method));
      process.exitCode = result.exitCode;
    } finally {
      store.close();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  });
}
