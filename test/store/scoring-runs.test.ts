// store.scoringRuns: what a ranking reads, without the rest of each run. Its figures must be the very
// doubles of the full summary (SQLite's `->` hands back the stored JSON text), in the same order,
// under the same filters as listRuns.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSeason } from '../../bench/season-db.js';
import type { Run, ScoringRun } from '../../src/core/types.js';
import { allRuns } from '../../src/store/all-runs.js';
import { openStore } from '../../src/store/index.js';
import type { RunFilter } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';

const asScoring = (r: Run): ScoringRun => ({
  id: r.id, team: r.team, case: r.case, status: r.status, startedWallMs: r.startedWallMs,
  summary: r.summary && { wallSeconds: r.summary.wallSeconds, gpuToleranceMiB: r.summary.gpuToleranceMiB, scoring: r.summary.scoring },
});

describe('store.scoringRuns', () => {
  it('equals the scoring fields of listRuns for every run and filter, a running run included', () => {
    const dir = tempDir('flare-scoring-runs-');
    const season = buildSeason(join(dir, 'season.db'), join(dir, 'acc.csv'), 150);
    const store = openStore(season.db);
    const running: Run = { ...allRuns(store, {})[0], id: 'still-running', status: 'running', startedWallMs: Date.now(), endedWallMs: null, endedMonoNs: null, summary: null };
    store.createRun(running);
    store.flush();
    const filters: RunFilter[] = [{}, { team: ['team-03', 'team-10'] }, { status: ['timeout', 'failed'] }, { case: ['FLARETs_0002'], sinceWallMs: allRuns(store, {})[40].startedWallMs }, { status: [] }];
    for (const f of filters) {
      const full = allRuns(store, f).map(asScoring);
      expect(store.scoringRuns(f), JSON.stringify(f)).toEqual(full);
    }
    const all = store.scoringRuns({});
    expect(all).toHaveLength(151);
    expect(all.find((r) => r.id === 'still-running')?.summary).toBeNull();
    // Long fractions survive exactly (the comparison above is bit-exact on doubles).
    expect(all.some((r) => r.summary && !Number.isInteger(r.summary.scoring.aucGpuMiBs ?? 0))).toBe(true);
    store.close();
  });
});
