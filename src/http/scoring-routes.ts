// /api/v1/ranking: FLARE's rank-then-aggregate over the stored runs' efficiency figures under a
// shipped profile, with the accuracy metrics of the organiser's --accuracy-csv when the agent was
// given one (else they are reported as skipped), and an optional seeded bootstrap over cases
// (?bootstrap=1000&seed=1) for the leaderboard.
import { Router } from 'express';
import { bootstrapRanking } from '../scoring/bootstrap.js';
import { AccuracyFile } from '../scoring/accuracy-file.js';
import { accuracyOfRuns, checkAccuracy, efficiencyValues, type AccuracyRow, filterActive, gpuAucAboveMiBs, needsGpuAuc, rankedRuns, withAccuracy } from '../scoring/inputs.js';
import { BUILTIN_PROFILES, DEFAULT_PROFILE } from '../scoring/profile.js';
import { loadProfile } from '../scoring/profile-load.js';
import { rankTeams } from '../scoring/rank.js';
import type { Store } from '../store/types.js';
import { allRuns } from './api.js';
import { parseRunFilter, QueryError, RUN_FILTER_PARAMS } from './query.js';

/** Bounds the work one request can ask for (teams × cases × metrics per resample). */
const MAX_RESAMPLES = 5000;

function intParam(name: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[0-9]{1,10}$/.test(v)) throw new QueryError(name, `expected an integer ${min} to ${max}`);
  const n = Number(v);
  if (n < min || n > max) throw new QueryError(name, `expected an integer ${min} to ${max}`);
  return n;
}

export function scoringRouter(store: Store, accuracyCsv?: string): Router {
  const r = Router();
  // A path that comes to name a FIFO or a device keeps the last good values (reading it would hang this thread).
  const accuracyFile = accuracyCsv ? new AccuracyFile(accuracyCsv, (why) => process.emitWarning(`flare-agent: --accuracy-csv: ${why}; ranking with the last good version`)) : null;
  r.get('/ranking', (req, res) => {
    let filter;
    let profileName = DEFAULT_PROFILE as string;
    let resamples = 0;
    let seed = 1;
    try {
      const query = req.query as Record<string, unknown>;
      const own = ['profile', 'bootstrap', 'seed'];
      for (const k of Object.keys(query)) if (!own.includes(k) && !(RUN_FILTER_PARAMS as readonly string[]).includes(k)) throw new QueryError(k.slice(0, 64), 'unknown parameter');
      const { profile, bootstrap, seed: seedRaw, ...rest } = query;
      resamples = intParam('bootstrap', bootstrap, 0, MAX_RESAMPLES) ?? 0;
      seed = intParam('seed', seedRaw, 0, 0xffffffff) ?? 1;
      if (profile !== undefined) {
        // Shipped profiles by name only: a path would read the server's files.
        if (typeof profile !== 'string' || !(BUILTIN_PROFILES as readonly string[]).includes(profile)) throw new QueryError('profile', `expected one of ${BUILTIN_PROFILES.join(', ')}`);
        profileName = profile;
      }
      filter = parseRunFilter(rest as Record<string, unknown>);
    } catch (err) {
      return void res.status(400).json({ error: err instanceof QueryError ? err.message : 'bad request' });
    }
    let accuracy: AccuracyRow[] = [];
    try {
      accuracy = accuracyFile?.read() ?? [];
    } catch (err) {
      // Broken since the agent started (mid-edit, removed): say so rather than rank without it.
      return void res.status(503).json({ error: `the accuracy CSV cannot be read: ${(err as Error).message.slice(0, 200)}` });
    }
    const profile = loadProfile(profileName);
    const runs = allRuns(store, filter);
    const gpuAuc = new Map<string, number | null>();
    for (const r of needsGpuAuc(rankedRuns(runs), profile)) gpuAuc.set(r.id, gpuAucAboveMiBs(store.iterateRunSamples(r.id), profile.gpuToleranceMiB));
    // A filtered ranking ranks the filtered runs' teams and cases only (team=, case=, a time window…).
    if (filterActive(filter)) accuracy = accuracyOfRuns(accuracy, runs);
    let warnings: string[];
    try {
      warnings = checkAccuracy(accuracy, profile, runs);
    } catch (err) {
      // A value outside the profile's range: the organiser's file is wrong for this profile.
      return void res.status(503).json({ error: `the accuracy CSV does not fit profile ${profile.name}: ${(err as Error).message.slice(0, 200)}` });
    }
    const values = withAccuracy(efficiencyValues(runs, profile, false, gpuAuc), accuracy, profile);
    const ranking = rankTeams(values, profile.ranking.metrics, profile.ranking.ties);
    const boot = resamples > 0 && ranking.cases.length > 0 ? bootstrapRanking(values, profile.ranking.metrics, profile.ranking.ties, resamples, seed) : null;
    res.json({ profile: profile.name, accuracy: accuracyFile ? 'organiser-csv' : null, ...ranking, bootstrap: boot, warnings });
  });
  return r;
}
