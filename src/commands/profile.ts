// `flare-agent profile [options] -- <command…>`
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveConfig } from '../config.js';
import { createLogger } from '../log.js';
import { runProfile } from '../profiler/run-profile.js';
import { openStore } from '../store/index.js';
import { formatSummaryTable } from './format.js';
import { stripUnsafe } from '../core/text.js';
import { MAX_LABEL_CHARS } from '../runtime/labels.js';
import { addConfigOptions, flagValues } from './options.js';

const SAMPLING_KEYS = ['db', 'intervalMs', 'timeLimit', 'gpuToleranceMib', 'gpuSource', 'nvmlLib', 'penaltyTimeSeconds', 'penaltyAucGpuMibs', 'penaltyAucCpuPcts', 'logLevel'] as const;

/**
 * A team or case name as stored: control and bidi characters removed, as from container labels
 * (core/text.ts, docs/security.md), at most MAX_LABEL_CHARS; empty after that is bad usage.
 */
function runName(option: string, raw: string): string {
  const name = stripUnsafe(raw).trim();
  if (name.length === 0) throw new Error(`${option}: give a name with a visible character`);
  if (name.length > MAX_LABEL_CHARS) throw new Error(`${option}: at most ${MAX_LABEL_CHARS} characters`);
  return name;
}

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
    const { team, caseName } = ((): { team: string; caseName: string | undefined } => {
      try {
        return { team: runName('--team', opts.team as string), caseName: opts.case === undefined ? undefined : runName('--case', opts.case as string) };
      } catch (err) {
        return cmd.error(`flare-agent profile: ${(err as Error).message}`, { exitCode: 2, code: 'flare.usage' });
      }
    })();
    // Without --db the run is measured in a scratch database and forgotten.
    const keep = opts.db !== undefined || process.env.FLARE_AGENT_DB !== undefined;
    const scratch = keep ? null : mkdtempSync(join(tmpdir(), 'flare-profile-'));
    const store = openStore(scratch ? join(scratch, 'profile.db') : config.db);
    try {
      const result = await runProfile(config, store, { command, team, caseName, noCgroup: opts.cgroup === false }, log);
      const { summary, ...identity } = result.run;
      process.exitCode = result.exitCode; // first: a reader that closes the pipe early keeps it (cli.ts)
      if (opts.json) process.stdout.write(JSON.stringify({ ...summary, id: identity.id, team: identity.team, case: identity.case, node: identity.node, command: identity.command, method: result.method }) + '\n');
      else process.stderr.write(formatSummaryTable(result.run, result.method));
    } finally {
      store.close();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  });
}
