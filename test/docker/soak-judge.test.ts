// The soak's judge (bench/soak-compare.ts): each miss it must count, so the soak test can fail.
import { describe, expect, it } from 'vitest';
import { compareWithDocker, type Lifecycle } from '../../bench/soak-compare.js';
import type { Run } from '../../src/core/types.js';

const T0 = Date.parse('2026-12-05T06:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function life(id: string, kind: Lifecycle['kind'], startMs: number, endMs: number, exitCode: number, over: Partial<Lifecycle['state']> = {}): Lifecycle {
  return { id, kind, limitSeconds: kind === 'limit' ? 3 : null, state: { StartedAt: iso(startMs), FinishedAt: iso(endMs), ExitCode: exitCode, OOMKilled: false, ...over }, dockerLoggedOom: null };
}

function run(containerId: string, status: Run['status'], wallSeconds: number, exitCode: number | null, over: Partial<Run> = {}, flags: string[] = [], reason = 'exited'): Run {
  return { id: `r-${containerId}-${status}`, containerId, status, startedWallMs: T0, previousRunId: null, summary: { wallSeconds, exitCode, flags, terminationReason: reason }, ...over } as unknown as Run;
}

describe('soak judge', () => {
  it('a run that matches Docker\'s record counts nothing; each kind of miss is counted', () => {
    const lives = [
      life('ok', 'ok', T0, T0 + 300, 0),
      life('lost', 'ok', T0, T0 + 300, 0),
      life('status', 'fail', T0, T0 + 200, 1),
      life('exit', 'fail', T0, T0 + 200, 1),
      life('wall', 'ok', T0, T0 + 300, 0),
      life('unkilled', 'limit', T0, T0 + 10_000, 0),
      life('late-kill', 'limit', T0, T0 + 5_000, 137),
      life('interrupted', 'ok', T0, T0 + 300, 0),
    ];
    const runs = [
      run('ok', 'completed', 0.3, 0),
      run('status', 'completed', 0.2, 1),
      run('exit', 'failed', 0.2, 2),
      run('wall', 'completed', 0.35, 0),
      run('unkilled', 'timeout', 10, 0),
      run('late-kill', 'timeout', 5, 137),
      run('interrupted', 'timeout', 0.3, null, {}, ['interrupted'], 'agent interrupted'),
    ];
    const c = compareWithDocker(lives, runs);
    expect({ lost: c.lost, wrongStatus: c.wrongStatus, wrongExitCode: c.wrongExitCode, wallOff: c.wallOff, overLimitNotKilled: c.overLimitNotKilled, interrupted: c.interruptedWithoutVerdict }).toEqual({
      lost: 1, wrongStatus: 1, wrongExitCode: 1, wallOff: 1, overLimitNotKilled: 2, interrupted: 1,
    });
  });

  it('a deadline that fell while no agent ran may be met at the agent\'s return; the last run of a chain is judged', () => {
    const late = life('late', 'limit', T0, T0 + 4_800, 137);
    const gaps = { engineDown: null, agentDown: { fromMs: T0 + 2_500, toMs: T0 + 4_500 } };
    const first = run('late', 'interrupted', 2.5, null, { id: 'first' }, [], 'agent interrupted');
    const second = run('late', 'timeout', 4.8, 137, { id: 'second', previousRunId: 'first' });
    const c = compareWithDocker([late], [first, second], gaps);
    expect([c.overLimitNotKilled, c.interruptedWithoutVerdict, c.wrongStatus, c.lost]).toEqual([0, 0, 0, 0]);
    // The same kill with no gap around its deadline is late.
    expect(compareWithDocker([late], [first, second]).overLimitNotKilled).toBe(1);
  });

  it('an OOM no source named (no OOMKilled, no logged event, never attached) is reported apart, not as a wrong status', () => {
    const oom = { ...life('oom', 'oom', T0, T0 + 30, 137), dockerLoggedOom: false };
    const c = compareWithDocker([oom], [run('oom', 'failed', 0.03, 137, {}, ['exited-before-attach'])]);
    expect([c.oomUnknowable, c.wrongStatus]).toEqual([1, 0]);
    // Docker logged its oom: the agent had a source, so failed is wrong.
    expect(compareWithDocker([{ ...oom, dockerLoggedOom: true }], [run('oom', 'failed', 0.03, 137, {}, ['exited-before-attach'])]).wrongStatus).toBe(1);
    // Attached, but its kernel count was never read at the end (the cgroup was removed first): also unknowable.
    expect(compareWithDocker([oom], [run('oom', 'failed', 0.03, 137, {}, ['oom-count-unread-at-end'])]).oomUnknowable).toBe(1);
    // Attached and the count was read at the end: a failed verdict is the agent's mistake.
    expect(compareWithDocker([oom], [run('oom', 'failed', 0.03, 137, {}, [])]).wrongStatus).toBe(1);
  });
});
