// Which run of a (team, case) is ranked: the final verdict of the latest attempt, whatever the ids'
// order (an agent restart leaves an interrupted run and its continuation at one start time), and
// with team and case names compared in NFC before the choice.
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.js';
import { attemptsOf, rankedAttempts } from '../../src/scoring/attempts.js';
import { efficiencyValues, rankedRuns } from '../../src/scoring/inputs.js';
import { loadProfile } from '../../src/scoring/challenge-profile-load.js';
import { rankTable, valueTable } from '../../src/scoring/rank.js';
import { run, summary, T0 } from '../http/helpers.js';

const flare22 = loadProfile('flare22');
const timed = (timeSeconds: number) => summary({ scoring: { timeSeconds, aucGpuMiBs: 0, aucCpuPctS: 100, penalised: false } });

/** The restart of issue 36: run A interrupted at 2 s, its continuation B completed at 10 s, one StartedAt. */
function restarted(team: string, idA: string, idB: string): Run[] {
  const a = run(idA, { team, case: 'c1', status: 'interrupted', startedWallMs: T0, summary: timed(2) });
  const b = run(idB, { team, case: 'c1', status: 'completed', startedWallMs: T0, previousRunId: idA, summary: timed(10) });
  return [a, b];
}

describe('attempts: a run and its continuations', () => {
  it('the continuation is ranked whichever id sorts first (ids end in random hex)', () => {
    for (const [idA, idB] of [['r-ffff', 'r-0000'], ['r-0000', 'r-ffff']]) {
      const runs = restarted('alpha', idA, idB);
      // The store hands runs newest first by (start, id DESC): both orders of one start.
      for (const order of [runs, [...runs].reverse()]) {
        expect(rankedRuns(order).map((r) => r.id)).toEqual([idB]);
        expect(rankedRuns(order, true).map((r) => r.id)).toEqual([idB]);
      }
    }
  });

  it('six restarted teams all rank on their completed runs: one tie, nobody last', () => {
    const runs = ['t1', 't2', 't3', 't4', 't5', 't6'].flatMap((t, i) => restarted(t, `${t}-${i % 2 ? 'f' : '0'}a`, `${t}-${i % 2 ? '0' : 'f'}b`));
    const values = efficiencyValues(runs, flare22);
    expect(values.every((v) => !v.failed)).toBe(true);
    const ranking = rankTable(valueTable(values, flare22.ranking.metrics), flare22.ranking.metrics, flare22.ranking.ties);
    expect(new Set(ranking.teams.map((t) => t.rank))).toEqual(new Set([1]));
  });

  it('a chain of three (two restarts) is one attempt ending at its last run', () => {
    const runs = [
      run('x1', { status: 'interrupted', previousRunId: null }),
      run('x2', { status: 'interrupted', previousRunId: 'x1' }),
      run('x3', { status: 'oom', previousRunId: 'x2' }),
    ];
    const attempts = attemptsOf(runs);
    expect(attempts).toHaveLength(1);
    expect(attempts[0].final.id).toBe('x3');
  });

  it('an attempt still running is not ranked, and its interrupted first run does not stand in for it', () => {
    const older = run('old', { startedWallMs: T0 - 60_000, summary: timed(7) });
    const a = run('a', { status: 'interrupted', summary: timed(1) });
    const b = run('b', { status: 'running', previousRunId: 'a', summary: null });
    expect(rankedRuns([b, a, older]).map((r) => r.id)).toEqual(['old']);
  });

  it('a later attempt (the case run again) replaces an earlier one, whatever their verdicts', () => {
    const first = run('first', { status: 'completed', startedWallMs: T0 });
    const again = run('again', { status: 'failed', startedWallMs: T0 + 1 });
    expect(rankedAttempts([first, again], false).map((r) => r.id)).toEqual(['again']);
    expect(rankedAttempts([again, first], true).map((r) => r.id).sort()).toEqual(['again', 'first']);
  });

  it('a run naming a previous run that is not among those read starts its own attempt', () => {
    expect(rankedRuns([run('b', { previousRunId: 'filtered-out' })]).map((r) => r.id)).toEqual(['b']);
  });

  it('a cycle of previousRunId (a hand-edited database) ends, and ranks nothing twice', () => {
    const runs = [run('p', { previousRunId: 'q' }), run('q', { previousRunId: 'p' })];
    expect(rankedRuns(runs).length).toBeLessThanOrEqual(1);
  });
});

describe('one team spelled in NFC and NFD', () => {
  it('the newer completed run replaces the older failed one: one cell, not a failure beside it', () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    const oldFailed = run('old', { team: nfd, case: 'c1', status: 'failed', startedWallMs: T0, summary: timed(99) });
    const newDone = run('new', { team: nfc, case: 'c1', status: 'completed', startedWallMs: T0 + 1000, summary: timed(5) });
    const other = run('other', { team: 'slow', case: 'c1', status: 'completed', startedWallMs: T0, summary: timed(50) });
    const values = efficiencyValues([oldFailed, newDone, other], flare22);
    const cafe = values.filter((v) => v.team === nfc);
    expect(cafe.filter((v) => v.metric === 'time')).toEqual([{ team: nfc, case: 'c1', failed: false, metric: 'time', value: 5 }]);
    const ranking = rankTable(valueTable(values, flare22.ranking.metrics), flare22.ranking.metrics, flare22.ranking.ties);
    expect(ranking.teams.map((t) => [t.team, t.rank])).toEqual([[nfc, 1], ['slow', 2]]);
  });
});
