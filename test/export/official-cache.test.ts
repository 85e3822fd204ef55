// The official figures kept per run and profile: the cached figures are the recomputed ones, a flag
// added after the run's end (Docker's removal time) computes them again, each profile has its own,
// and the cache holds at most its bound.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSeason } from '../../bench/season-db.js';
import { OfficialCache } from '../../src/export/official-cache.js';
import { flareCsv, flareCsvOfFilter } from '../../src/export/flare-csv.js';
import { officialFiguresOfRun, officialRows, officialRowsOfFilter } from '../../src/export/official.js';
import { loadProfile } from '../../src/scoring/profile-load.js';
import { allRuns } from '../../src/store/all-runs.js';
import { openStoreReadOnly } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('flare-official-cache-');
const season = buildSeason(join(dir, 'season.db'), join(dir, 'accuracy.csv'), 120);

describe('official figures cache', () => {
  it('the official rows of a fixed season equal the ones recorded before the export was paged and cached (flare22, 23, 24)', () => {
    const golden = JSON.parse(readFileSync(new URL('./fixtures/official-golden-120.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const store = openStoreReadOnly(season.db);
    const cache = new OfficialCache();
    for (const name of ['flare22', 'flare23', 'flare24']) {
      expect(officialRows(allRuns(store, {}), store, loadProfile(name)), name).toEqual(golden[name]);
      expect(officialRowsOfFilter(store, {}, store, loadProfile(name), cache, 9), name).toEqual(golden[name]);
      expect(officialRowsOfFilter(store, {}, store, loadProfile(name), cache, 9), name).toEqual(golden[name]);
    }
    store.close();
  });

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
    // Read a page at a time: pages of 7 runs here, so that runs of one start time span pages.
    expect(officialRowsOfFilter(store, {}, store, loadProfile('flare22'), cache, 7)).toEqual(officialRows(runs, store, loadProfile('flare22')));
    expect(officialRowsOfFilter(store, { team: ['team-04', 'team-09'] }, store, loadProfile('flare22'), undefined, 3)).toEqual(officialRows(allRuns(store, { team: ['team-04', 'team-09'] }), store, loadProfile('flare22')));
    expect(cache.misses).toBe(2 * 120);
    expect(cache.hits).toBe(3 * 120);
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

describe('FLARE CSV read a page at a time', () => {
  it('equals the CSV of all runs at once, for both layouts, both figure sets, with and without a filter', () => {
    const store = openStoreReadOnly(season.db);
    for (const layout of ['flare22', 'flare24'] as const) {
      for (const figures of ['exact', 'official'] as const) {
        for (const filter of [{}, { team: ['team-02', 'team-05'] }]) {
          const whole = flareCsv(allRuns(store, filter), layout, figures, true);
          expect(flareCsvOfFilter(store, filter, layout, figures, true, 7)).toBe(whole);
          expect(whole.split('\n').length).toBeGreaterThan('team' in filter ? 4 : 100);
        }
      }
    }
    store.close();
  });
});
