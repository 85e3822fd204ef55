// The official figures stored with their runs (official/keep.ts, store/official-table.ts):
// the stored figures are the recomputed ones, a store opened again (an agent restart, `export --db`)
// reads them instead of computing, figures from a host trace still in the writer's queue are never
// stored, a flag added after the run's end computes them again, and each profile has its own.
import Database from 'better-sqlite3';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSeason } from '../../bench/season-db.js';
import { FINAL_MARGIN_MS, OfficialKeep, officialStampOf, profileKeyOf } from '../../src/official/keep.js';
import { flareCsv, flareCsvOfFilter } from '../../src/export/flare-csv.js';
import { officialFiguresOfRun, officialRows, officialRowsOfFilter } from '../../src/official/runs.js';
import { loadProfile } from '../../src/scoring/challenge-profile-load.js';
import { allRuns } from '../../src/store/all-runs.js';
import { openStore, openStoreReadOnly } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('flare-official-keep-');
const season = buildSeason(join(dir, 'season.db'), join(dir, 'accuracy.csv'), 120);

/** A writable copy of the season: the store's own keep (saveOfficialFigures), written at flush. */
function copyOfSeason(name: string): string {
  const path = join(dir, name);
  copyFileSync(season.db, path);
  return path;
}
const keepOf = (store: Store): OfficialKeep => new OfficialKeep(store, (rows) => store.saveOfficialFigures(rows));
/** What the background flush does, at once (close() writes the rest too). */
const closeAndReopen = (path: string, store: Store): Store => (store.close(), openStore(path));

describe('official figures stored with their runs', () => {
  it('the official rows of a fixed season equal the recorded ones, computed and then read back (flare22, 23, 24)', () => {
    const golden = JSON.parse(readFileSync(new URL('./fixtures/official-golden-120.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const path = copyOfSeason('golden.db');
    let store = openStore(path);
    for (const name of ['flare22', 'flare23', 'flare24']) {
      expect(officialRows(allRuns(store, {}), store, loadProfile(name)), name).toEqual(golden[name]);
      const cold = keepOf(store);
      expect(officialRowsOfFilter(store, {}, store, loadProfile(name), cold, 9), name).toEqual(golden[name]);
      expect([cold.hits, cold.misses]).toEqual([0, 120]);
    }
    // An agent restart: a new store on the file reads all of them but the newest run's, whose span
    // reaches the season's last host sample (its figures are not final: computed on every read).
    store = closeAndReopen(path, store);
    for (const name of ['flare22', 'flare23', 'flare24']) {
      const warm = keepOf(store);
      expect(officialRowsOfFilter(store, {}, store, loadProfile(name), warm, 9), name).toEqual(golden[name]);
      expect([warm.hits, warm.misses]).toEqual([119, 1]);
    }
    store.close();
    // `export --db`: a read-only store reads the same rows (and writes none).
    const ro = openStoreReadOnly(path);
    const cli = new OfficialKeep(ro, () => {});
    expect(officialRowsOfFilter(ro, {}, ro, loadProfile('flare22'), cli)).toEqual(golden.flare22);
    expect(cli.hits).toBe(119);
    ro.close();
  });

  it('each profile has its own rows; a profile edited in a file is another profile', () => {
    const path = copyOfSeason('profiles.db');
    let store = openStore(path);
    const runs = allRuns(store, {});
    const k = keepOf(store);
    officialRows(runs, store, loadProfile('flare22'), undefined, k);
    k.done();
    store = closeAndReopen(path, store);
    const other = keepOf(store);
    officialRows(runs, store, loadProfile('flare23'), undefined, other);
    expect(other.hits).toBe(0);
    const edited = { ...loadProfile('flare22'), span: { ...loadProfile('flare22').span } };
    expect(profileKeyOf(edited)).toBe(profileKeyOf(loadProfile('flare22')));
    (edited.span as Record<string, unknown>).edited = 1;
    expect(profileKeyOf({ ...edited })).not.toBe(profileKeyOf(loadProfile('flare22')));
    const same = keepOf(store);
    expect(officialRows(runs, store, loadProfile('flare22'), undefined, same)).toEqual(officialRows(runs, store, loadProfile('flare22')));
    expect(same.hits).toBe(119);
    store.close();
  });

  it('figures computed before the host samples of the run\'s span are on disk are served but never stored', () => {
    const path = copyOfSeason('incomplete.db');
    const profile = loadProfile('flare22');
    // A run well inside the season, with the host samples of its last seconds and after not yet
    // written (still in the writer's queue when the export came).
    const ro = openStoreReadOnly(path);
    const untilMs = ro.nodeSamplesUntilWallMs()!;
    const [newest] = allRuns(ro, {}).filter((r) => r.endedWallMs! + 10_000 < untilMs).sort((a, b) => b.endedWallMs! - a.endedWallMs!);
    ro.close();
    const db = new Database(path);
    const cut = newest.endedWallMs! - 2000;
    const held = db.prepare('SELECT * FROM node_chunks WHERE last_wall_ms > ?').all(cut) as Record<string, unknown>[];
    expect(held.length).toBeGreaterThan(0);
    db.prepare('DELETE FROM node_chunks WHERE last_wall_ms > ?').run(cut);
    db.close();
    let store = openStore(path);
    const early = keepOf(store);
    const partial = officialRows([newest], store, profile, undefined, early)[0].figures;
    expect(early.done()).toBe(0); // nothing final: nothing stored
    // The queue lands: the same request now gives the complete figures, and stores them.
    store.close();
    const back = new Database(path);
    const insert = back.prepare(`INSERT INTO node_chunks (${Object.keys(held[0]).join(', ')}) VALUES (${Object.keys(held[0]).map((c) => '@' + c).join(', ')})`);
    for (const row of held) insert.run(row);
    back.close();
    store = openStore(path);
    const late = keepOf(store);
    const complete = officialRows([newest], store, profile, undefined, late)[0].figures;
    expect(late.done()).toBe(1);
    expect(complete).toEqual(officialFiguresOfRun(newest, store, profile));
    expect(complete).not.toEqual(partial);
    store = closeAndReopen(path, store);
    expect(store.storedOfficialFigures(newest.id, profileKeyOf(profile))).toEqual({ stamp: officialStampOf(newest), figures: complete });
    expect(store.nodeSamplesUntilWallMs()!).toBeGreaterThanOrEqual(newest.endedWallMs! + FINAL_MARGIN_MS);
    store.close();
  });

  it('a flag added after the end computes the run again; a deleted run takes its rows with it', () => {
    const path = copyOfSeason('flags.db');
    let store = openStore(path);
    const [run] = allRuns(store, { team: ['team-01'] });
    const profile = loadProfile('flare22');
    const k = keepOf(store);
    const before = officialRows([run], store, profile, undefined, k)[0].figures;
    k.done();
    store = closeAndReopen(path, store);
    // Docker's create and removal times, added after the end: the span (and so Time) changes.
    const flagged = { ...run, summary: { ...run.summary!, createdBeforeStartSeconds: 0.2, removedAfterEndSeconds: 30 } };
    const again = keepOf(store);
    const after = officialRows([flagged], store, profile, undefined, again)[0].figures;
    expect([again.hits, again.misses]).toEqual([0, 1]);
    expect(after).not.toEqual(before);
    expect(after).toEqual(officialFiguresOfRun(flagged, store, profile));
    store.applyRetention({ maxAgeDays: 0 });
    store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM official_figures').pluck().get()).toBe(0);
    db.close();
  });
});

describe('FLARE CSV read a page at a time', () => {
  it('equals the CSV of all runs at once, for both layouts, with and without a filter', () => {
    const store = openStoreReadOnly(season.db);
    for (const layout of ['flare22', 'flare24'] as const) {
      for (const filter of [{}, { team: ['team-02', 'team-05'] }]) {
        const whole = flareCsv(allRuns(store, filter), layout, true);
        expect(flareCsvOfFilter(store, filter, layout, true, 7)).toBe(whole);
        expect(whole.split('\n').length).toBeGreaterThan('team' in filter ? 4 : 100);
      }
    }
    store.close();
  });
});
