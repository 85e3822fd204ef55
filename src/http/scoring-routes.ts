// /api/v1/ranking: FLARE's rank-then-aggregate over the stored runs' efficiency figures under a
// shipped profile (accuracy metrics need the CLI's --accuracy file: they are reported as skipped).
import { Router } from 'express';
import { efficiencyValues } from '../scoring/inputs.js';
import { BUILTIN_PROFILES, DEFAULT_PROFILE } from '../scoring/profile.js';
import { loadProfile } from '../scoring/profile-load.js';
import { rankTeams } from '../scoring/rank.js';
import type { Store } from '../store/types.js';
import { allRuns } from './api.js';
import { parseRunFilter, QueryError, RUN_FILTER_PARAMS } from './query.js';

export function scoringRouter(store: Store): Router {
  const r = Router();
  r.get('/ranking', (req, res) => {
    let filter;
    let profileName = DEFAULT_PROFILE as string;
    try {
      const query = req.query as Record<string, unknown>;
      for (const k of Object.keys(query)) if (k !== 'profile' && !(RUN_FILTER_PARAMS as readonly string[]).includes(k)) throw new QueryError(k.slice(0, 64), 'unknown parameter');
      const { profile, ...rest } = query;
      if (profile !== undefined) {
        // Shipped profiles by name only: a path would read the server's files.
        if (typeof profile !== 'string' || !(BUILTIN_PROFILES as readonly string[]).includes(profile)) throw new QueryError('profile', `expected one of ${BUILTIN_PROFILES.join(', ')}`);
        profileName = profile;
      }
      filter = parseRunFilter(rest as Record<string, unknown>);
    } catch (err) {
      return void res.status(400).json({ error: err instanceof QueryError ? err.message : 'bad request' });
    }
    const profile = loadProfile(profileName);
    const ranking = rankTeams(efficiencyValues(allRuns(store, filter), profile), profile.ranking.metrics, profile.ranking.ties);
    res.json({ profile: profile.name, ...ranking });
  });
  return r;
}
