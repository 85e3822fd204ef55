// Where `runs`, `export` and `rank` read runs from (a run source): the local database (read-only) or a running agent's API.
import type { Command } from 'commander';
import type { Run, RunFilter, RunSample, ScoringRun } from '../core/types.js';
import { allRuns, openStoreReadOnly } from '../store/index.js';
import { AgentClient, DEFAULT_MAX_BUSY_WAIT_MS } from '../http/client.js';
import { parseRunFilter, QueryError, RUN_FILTER_PARAMS } from '../http/query.js';
import { UsageError } from '../usage-error.js';
import { repeatable } from './repeat.js';
import { BUILTIN_PROFILES, type ChallengeProfile } from '../scoring/challenge-profile.js';

export const DEFAULT_DB = './flare-agent.db';

export interface RunSource {
  /** Matching runs, newest first: all of them, or the newest `limit`. */
  runs(filter: RunFilter, limit?: number): Promise<Run[]>;
  /** What a ranking reads (identity, status, scoring figures); from a database without the rest of each run. */
  scoringRuns(filter: RunFilter): Promise<ScoringRun[]>;
  samples(run: Pick<Run, 'id'>): Promise<Iterable<RunSample>>;
  /** The official CSV: computed here from a database, or by the agent (shipped profiles only). */
  officialCsv(filter: RunFilter, profile: ChallengeProfile, profileArg: string, withTeam: boolean): Promise<string>;
  close(): void;
}

export interface SourceOptions {
  db?: string;
  url?: string;
  token?: string;
  /** --busy-wait: seconds one request may wait in all on the agent's 503 + Retry-After. */
  busyWait?: string;
}

/** --busy-wait as milliseconds: a whole number of seconds, 0 to 3600. */
function busyWaitMs(arg: string | undefined): number {
  if (arg === undefined) return DEFAULT_MAX_BUSY_WAIT_MS;
  if (!/^[0-9]{1,4}$/.test(arg) || Number(arg) > 3600) throw new UsageError('--busy-wait: expected whole seconds, 0 to 3600');
  return Number(arg) * 1000;
}

/** --db / --url / --token and the run filters shared by `runs` and `export`. */
export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--db <file>', `SQLite database to read (default ${DEFAULT_DB}, env FLARE_AGENT_DB)`)
    .option('--url <agent>', 'read from a running agent instead, e.g. http://node1:9465')
    .option('--token <token>', 'bearer token for --url (env FLARE_AGENT_TOKEN)')
    .option('--busy-wait <seconds>', `with --url: how long in all to wait and retry while the agent answers busy (503 + Retry-After); default ${DEFAULT_MAX_BUSY_WAIT_MS / 1000}`)
    .addOption(repeatable('--team <team>', 'only this team (repeat for several)'))
    .addOption(repeatable('--case <case>', 'only this case (repeat for several)'))
    .addOption(repeatable('--status <status>', 'only this status: running, completed, failed, oom, timeout, interrupted (repeat for several)'))
    .addOption(repeatable('--node <node>', 'only runs measured on this node (repeat for several)'))
    .option('--since <time>', 'runs started at or after (ISO 8601 or epoch ms)')
    .option('--until <time>', 'runs started before (ISO 8601 or epoch ms)');
}

export function filterFromOptions(opts: Record<string, unknown>): RunFilter {
  const raw: Record<string, unknown> = {};
  for (const key of RUN_FILTER_PARAMS) if (opts[key] !== undefined) raw[key] = opts[key];
  try {
    return parseRunFilter(raw);
  } catch (err) {
    if (err instanceof QueryError) throw new UsageError(`--${err.message}`);
    throw err;
  }
}

export function openRunSource(opts: SourceOptions, env: NodeJS.ProcessEnv = process.env): RunSource {
  if (opts.db !== undefined && opts.url !== undefined) throw new UsageError('give --db or --url, not both');
  const token = opts.token ?? env.FLARE_AGENT_TOKEN;
  if (opts.url !== undefined) {
    let client: AgentClient;
    const maxBusyWaitMs = busyWaitMs(opts.busyWait);
    try {
      client = new AgentClient(opts.url, token, {
        maxBusyWaitMs,
        onBusy: (what, waitMs, waitedMs) => process.stderr.write(`flare-agent: ${what}: the agent is busy (503); retrying in ${(waitMs / 1000).toFixed(1)} s (waited ${(waitedMs / 1000).toFixed(0)} of at most ${maxBusyWaitMs / 1000} s)\n`),
      });
    } catch (err) {
      throw new UsageError(`--url: ${(err as Error).message}`);
    }
    return {
      runs: (f, limit) => client.runs(f, limit),
      scoringRuns: (f) => client.runs(f),
      samples: (r) => client.samples(r.id),
      // The agent adds the Team column exactly when no team is asked for, as flareCsv's callers do.
      async officialCsv(f, profile, profileArg) {
        if (!(BUILTIN_PROFILES as readonly string[]).includes(profileArg)) throw new UsageError('--profile: a profile file needs --db (an agent takes shipped profiles by name only)');
        return client.officialCsv(f, profile.name);
      },
      close: () => {},
    };
  }
  const store = openStoreReadOnly(opts.db ?? env.FLARE_AGENT_DB ?? DEFAULT_DB);
  return {
    runs: async (f, limit) => allRuns(store, f, limit),
    scoringRuns: async (f) => store.scoringRuns(f),
    samples: async (r) => store.iterateRunSamples(r.id),
    // The figures the agent stored with its runs where they stand, the rest computed: what the API answers.
    // Loaded here, not at start-up: `runs` never needs the official model (~20 ms of module loading).
    async officialCsv(f, profile, _arg, withTeam) {
      const [{ officialRowsOfFilter }, { officialCsv }, { OfficialKeep }] = await Promise.all([
        import('../official/runs.js'),
        import('../official/csv.js'),
        import('../official/keep.js'),
      ]);
      return officialCsv(officialRowsOfFilter(store, f, store, profile, new OfficialKeep(store, () => {})), profile, withTeam);
    },
    close: () => store.close(),
  };
}
