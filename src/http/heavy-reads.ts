// The heavy reads of /api/v1: the ranking (with its bootstrap) and the FLARE and official CSV exports.
// Each reads every matching run and can take seconds at season size (docs/performance.md), so they run
// where they cannot hold up /healthz and /metrics: the read pool's worker thread (heavy-read-thread.ts). Each
// takes the request's query and answers a whole response (status, type, body), so the same function
// runs in that thread or, where no compiled worker exists (tests from sources), in-process.
import { rememberBounded } from '../core/bounded-map.js';
import type { BootstrapInput, BootstrapResult } from '../scoring/bootstrap.js';
import { AccuracyFile } from '../scoring/accuracy-file.js';
import { AccuracyTable } from '../scoring/accuracy-table.js';
import { AccuracyFitError, gpuAucFromTrace, rankingBootstrap, rankRuns, runsNeedingTrace } from '../scoring/rank-runs.js';
import { BUILTIN_PROFILES, DEFAULT_PROFILE, type ChallengeProfile } from '../scoring/challenge-profile.js';
import { loadProfile } from '../scoring/challenge-profile-load.js';
import type { Ranking } from '../scoring/rank.js';
import type { Store, StoredOfficial } from '../store/index.js';
import { flareCsvOfFilter, type FlareLayout } from '../export/flare-csv.js';
import { officialCsv } from '../official/csv.js';
import { officialRowsOfFilter } from '../official/runs.js';
import { OfficialKeep } from '../official/keep.js';
import { parseExport, parseRunFilter, QueryError, RUN_FILTER_PARAMS, type RawQuery } from './query.js';

/** One heavy read: which route, and the request's query as express parsed it (strings, string lists). */
export interface HeavyRead {
  route: 'ranking' | 'flare22.csv' | 'flare24.csv' | 'official.csv';
  query: RawQuery;
}

export interface HeavyAnswer {
  status: number;
  type: 'json' | 'csv';
  body: string;
}

/** What the heavy reads keep between requests: owned by the thread that answers them. */
export interface HeavyContext {
  store: Store;
  accuracy: AccuracyFile | null;
  /** Where official figures that became final go (the store's owner writes them with their runs). */
  keepOfficial: (rows: StoredOfficial[]) => void;
  /** Rankings by profile and filter, kept while the runs (store.runsChanges) and the accuracy rows stay. */
  rankings: Map<string, RankingEntry>;
}

interface RankingEntry {
  changes: number;
  /** The accuracy file's rows as read (AccuracyFile hands back the same table until the file changes). */
  accuracyRows: AccuracyTable;
  profile: ChallengeProfile;
  result: Ranking;
  /** What its bootstraps draw from (teams, places, each case's ranks): a few hundred KiB, not the values. */
  bootstrapInput: BootstrapInput;
  warnings: string[];
  /** Bootstraps of this ranking by resamples and seed. */
  bootstraps: Map<string, BootstrapResult>;
}

/** Rankings kept (profile × filter) and bootstraps per ranking: the leaderboard asks for a few. */
const MAX_RANKINGS = 8;
const MAX_BOOTSTRAPS = 4;

export function heavyContext(store: Store, accuracyCsv: string | undefined, keepOfficial: (rows: StoredOfficial[]) => void): HeavyContext {
  // A path that comes to name a FIFO or a device keeps the last good values (reading it would hang this thread).
  const accuracy = accuracyCsv ? new AccuracyFile(accuracyCsv, (why) => process.emitWarning(`flare-agent: --accuracy-csv: ${why}; ranking with the last good version`)) : null;
  return { store, accuracy, keepOfficial, rankings: new Map() };
}

const NO_ACCURACY = AccuracyTable.empty();

/** Bounds the work one request can ask for (teams × cases × metrics per resample). */
const MAX_RESAMPLES = 5000;

const json = (status: number, value: unknown): HeavyAnswer => ({ status, type: 'json', body: JSON.stringify(value) });
const bad = (err: unknown): HeavyAnswer => json(400, { error: err instanceof QueryError ? err.message : 'bad request' });

function intParam(name: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[0-9]{1,10}$/.test(v)) throw new QueryError(name, `expected an integer ${min} to ${max}`);
  const n = Number(v);
  if (n < min || n > max) throw new QueryError(name, `expected an integer ${min} to ${max}`);
  return n;
}

export function answerHeavyRead(ctx: HeavyContext, read: HeavyRead): HeavyAnswer {
  if (read.route === 'ranking') return ranking(ctx, read.query);
  let q;
  try {
    q = parseExport(read.query);
  } catch (err) {
    return bad(err);
  }
  if (read.route === 'official.csv' || q.figures === 'official') {
    // Official figures are modelled from the traces under a challenge profile (docs/scoring.md), once per
    // run: read from the store where final ones are stored (official/keep.ts).
    const layout: FlareLayout = read.route === 'flare24.csv' ? 'flare24' : 'flare22';
    const profile = loadProfile(read.route === 'official.csv' ? q.profile : q.profile ?? layout);
    return { status: 200, type: 'csv', body: officialCsv(officialRowsOfFilter(ctx.store, q.filter, ctx.store, profile, new OfficialKeep(ctx.store, ctx.keepOfficial)), profile, q.withTeam) };
  }
  return { status: 200, type: 'csv', body: flareCsvOfFilter(ctx.store, q.filter, read.route === 'flare24.csv' ? 'flare24' : 'flare22', q.withTeam) };
}

/**
 * FLARE's rank-then-aggregate over the stored runs' efficiency figures under a shipped profile, with
 * the accuracy metrics of the organiser's --accuracy-csv when the agent was given one (else they are
 * reported as skipped), and an optional seeded bootstrap over cases (?bootstrap=1000&seed=1).
 */
function ranking(ctx: HeavyContext, query: RawQuery): HeavyAnswer {
  let filter;
  let profileName = DEFAULT_PROFILE as string;
  let resamples = 0;
  let seed = 1;
  let repeats = false;
  try {
    const own = ['profile', 'bootstrap', 'seed', 'repeats'];
    for (const k of Object.keys(query)) if (!own.includes(k) && !(RUN_FILTER_PARAMS as readonly string[]).includes(k)) throw new QueryError(k.slice(0, 64), 'unknown parameter');
    const { profile, bootstrap, seed: seedRaw, repeats: repeatsRaw, ...rest } = query;
    resamples = intParam('bootstrap', bootstrap, 0, MAX_RESAMPLES) ?? 0;
    seed = intParam('seed', seedRaw, 0, 0xffffffff) ?? 1;
    repeats = (intParam('repeats', repeatsRaw, 0, 1) ?? 0) === 1;
    if (profile !== undefined) {
      // Shipped profiles by name only: a path would read the server's files.
      if (typeof profile !== 'string' || !(BUILTIN_PROFILES as readonly string[]).includes(profile)) throw new QueryError('profile', `expected one of ${BUILTIN_PROFILES.join(', ')}`);
      profileName = profile;
    }
    filter = parseRunFilter(rest);
  } catch (err) {
    return bad(err);
  }
  let accuracyRows: AccuracyTable = NO_ACCURACY;
  try {
    accuracyRows = ctx.accuracy?.read() ?? NO_ACCURACY;
  } catch (err) {
    // Broken since the agent started (mid-edit, removed): say so rather than rank without it.
    return json(503, { error: `the accuracy CSV cannot be read: ${(err as Error).message.slice(0, 200)}` });
  }
  // Read before the runs: a run finishing in between only makes the next request compute again.
  const changes = ctx.store.runsChanges();
  const key = `${profileName}\u0000${repeats ? 'repeats' : 'best'}\u0000${JSON.stringify(filter)}`;
  let entry = ctx.rankings.get(key);
  if (!entry || entry.changes !== changes || entry.accuracyRows !== accuracyRows) {
    const profile = loadProfile(profileName);
    // The scoring fields only: a season's full summaries were most of a ranking's time.
    const runs = ctx.store.scoringRuns(filter);
    const gpuAucByRun = new Map<string, number | null>();
    for (const r of runsNeedingTrace(runs, profile, repeats)) gpuAucByRun.set(r.id, gpuAucFromTrace(ctx.store.iterateRunSamples(r.id), profile));
    try {
      // Kept: the ranking and what its bootstraps draw from, not the values.
      const { ranking: result, bootstrapInput, warnings } = rankRuns({ runs, filter, profile, accuracy: accuracyRows, repeats, gpuAucByRun });
      entry = { changes, accuracyRows, profile, result, bootstrapInput, warnings, bootstraps: new Map() };
    } catch (err) {
      // A value outside the profile's range: the organiser's file is wrong for this profile.
      if (err instanceof AccuracyFitError) return json(503, { error: `the accuracy CSV does not fit profile ${profile.name}: ${err.message.slice(0, 200)}` });
      throw err;
    }
    rememberBounded(ctx.rankings, key, entry, MAX_RANKINGS);
  }
  const { profile, result, warnings } = entry;
  let boot: BootstrapResult | null = null;
  if (resamples > 0) {
    const bootKey = `${resamples}:${seed}`;
    boot = entry.bootstraps.get(bootKey) ?? rankingBootstrap({ ranking: result, bootstrapInput: entry.bootstrapInput }, resamples, seed);
    if (boot) rememberBounded(entry.bootstraps, bootKey, boot, MAX_BOOTSTRAPS);
  }
  return json(200, { profile: profile.name, accuracy: ctx.accuracy ? 'organiser-csv' : null, ...result, bootstrap: boot, warnings });
}
