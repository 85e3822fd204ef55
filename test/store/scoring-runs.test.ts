// store.scoringRuns: what a ranking reads, without the rest of each run. Its figures must be the very
// doubles of the full summary (SQLite's `->` hands back the stored JSON text), in the same order,
// under the same filters as listRuns.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSeason } from '../../bench/season-db.js';
import type { Run, RunFilter, ScoringRun } from '../../src/core/types.js';
import { allRuns } from '../../src/store/all-runs.js';
import { openStore } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';

const asScoring = (r: Run): ScoringRun => ({
  id: r.id, team: r.team, case: r.case, status: r.status, startedWallMs: r.startedWallMs, previousRunId: r.previousRunId,
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

describe('store.runsChanges', () => {
  it('moves when a run is created, finishes, gets flags or is deleted; not on a running run partial summary', async () => {
    const { makeRun, makeSummary, tempDbPath } = await import('./fixtures.js');
    const store = openStore(tempDbPath());
    const c0 = store.runsChanges();
    const run = makeRun('changes-1', { status: 'running', summary: null, endedWallMs: null, endedMonoNs: null, startedWallMs: Date.now() - 86_400_000 * 30 });
    store.createRun(run);
    store.flush();
    const c1 = store.runsChanges();
    expect(c1).toBeGreaterThan(c0);
    store.updateRunningSummary(run.id, makeSummary());
    store.flush();
    expect(store.runsChanges()).toBe(c1);
    store.finishRun(run.id, { status: 'completed', endedWallMs: run.startedWallMs + 1000, endedMonoNs: run.startedMonoNs + 1e9, summary: makeSummary() });
    const c2 = store.runsChanges();
    expect(c2).toBeGreaterThan(c1);
    store.addRunFacts(run.id, { removedAfterEndSeconds: 0.5 });
    store.flush();
    const c3 = store.runsChanges();
    expect(c3).toBeGreaterThan(c2);
    expect(store.applyRetention({ maxAgeDays: 7 }).deletedRuns).toBe(1);
    expect(store.runsChanges()).toBeGreaterThan(c3);
    store.close();
  });
});
