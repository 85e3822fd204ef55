// A limit that nothing may enforce: the runtime refuses the kill and the cgroup kill is denied (a
// deployment without the privilege, docs/security.md). Before, the denial read as "the container has
// ended": no flag, no log. Now: the run's flag, one error line, flare_agent_errors_total{where="kill"}.
import { describe, expect, it, vi } from 'vitest';
import { FakeRuntime, finishedRun, startFakeAgent } from './fake-runtime.js';

// What killThroughCgroup answers as the systemd unit's dynamic user (measured in test/cgroup/kill.test.ts).
vi.mock('../../src/cgroup/kill.js', () => ({
  killThroughCgroup: () => ({ denied: 'cgroup.kill: EACCES, kill: EPERM' }),
  holdsProcesses: () => true,
}));

describe('enforcement with no way to kill', () => {
  it('flags the run kill-impossible once, counts the error, and keeps asking the runtime', async () => {
    const fake = new FakeRuntime();
    const a = await startFakeAgent(fake, { enforceTimeLimit: true, killGraceSeconds: 0 });
    try {
      fake.failKills = 2; // the runtime takes the third request (after 0.5 s and 1 s of backoff)
      fake.start('denied', { timeLimitSeconds: 0.5 });
      const run = await finishedRun(a.agent, 'denied');
      expect([run.status, run.summary!.terminationReason]).toEqual(['timeout', 'killed at time limit']);
      expect(run.summary!.flags.filter((f) => f === 'kill-impossible')).toHaveLength(1);
      expect(run.summary!.killDenied).toBe('cgroup.kill: EACCES, kill: EPERM');
      expect(a.agent.live.health().errors?.kill).toBe(1);
      expect(fake.kills.map((k) => k.ok)).toEqual([false, false, true]);
    } finally {
      await a.stop();
    }
  });
});
