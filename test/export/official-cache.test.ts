// The official figures kept per run and profile: the cached figures are the recomputed ones, a flag
// added after the run's end (Docker's removal time) computes them again, each profile has its own,
// and the cache holds at most its bound.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSeason } from '../../bench/season-db.js';
import { OfficialCache } from '../../src/export/official-cache.js';
import { officialFiguresOfRun, officialRows } from '../../src/export/official.js';
import { loadProfile } from '../../src/scoring/profile-load.js';
import { allRuns } from '../../src/store/all-runs.js';
import { openStoreReadOnly } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('flare-official-cache-');
const season = buildSeason(join(dir, 'season.db'), join(dir, 'accuracy.csv'), 120);

describe('official figures cache', () => {
  it('the cached figures of every run equal the recomputed ones, under two profiles', () => {
    const store = openStoreReadOnly(season.db);
    const runs = allRuns(store, {});
    const cache = new OfficialCache();
    for (const name of ['flare22', 'flare23']) {
      const profile = loadProfile(name);
      const fresh = officialRows(runs, store, profile);
      expect(officialRows(runs, store, profile, undefined, cache)).toEqual(fresh);
      // A new request loads the profile again: another object, the same content, the same entries.
      expect(officialRows(runs, store, loadProfile(name), undefined, cache)).toEqual(fresh);
    }
    expect(cache.misses).toBe(2 * 120);
    expect(cache.hits).toBe(2 * 120);
    expect(cache.size).toBe(2 * 120);
    store.close();
  });

  it('a flag added after the end computes the run again; the bound drops the oldest entry', () => {
    const store = openStoreReadOnly(season.db);
    const [run] = allRuns(store, { team: ['team-01'] });
    const profile = loadProfile('flare22');
    const cache = new OfficialCache(2);
    const compute = (r: typeof run) => () => officialFiguresOfRun(r, store, profile);
    const before = cache.figures(run, profile, compute(run));
    // Docker's create and removal times, added after the end: the span (and so Time) changes.
    const flagged = { ...run, summary: { ...run.summary!, flags: [...run.summary!.flags, 'created-before-start:0.2s', 'removed-after-end:30s'] } };
    const after = cache.figures(flagged, profile, compute(flagged));
    expect(cache.misses).toBe(2);
    expect(after).not.toEqual(before);
    expect(after).toEqual(officialFiguresOfRun(flagged, store, profile));
    expect(cache.figures(flagged, profile, compute(flagged))).toBe(after);
    expect(cache.size).toBe(1);
    const [other] = allRuns(store, { team: ['team-02'] });
    cache.figures(other, profile, compute(other));
    const [third] = allRuns(store, { team: ['team-03'] });
    cache.figures(third, profile, compute(third));
    expect(cache.size).toBe(2);
    store.close();
  });
});
