// Enforcement when the runtime cannot take the kill (src/runtime/enforce.ts, src/cgroup/kill.ts): dockerd
// is stopped (SIGSTOP) just before a container's deadline, so the agent's kill request gets no answer,
// as from a hung daemon. The agent kills the container through its cgroup 0.5 s on; once dockerd goes on,
// Docker records the exit 137 as any other, and the run's verdict and wall time are Docker's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KILL_ANSWER_MS } from '../../src/runtime/enforce.js';
import { aliveCheck } from '../../src/sources/proc-alive.js';
import { requireServices, sleep } from '../helpers.js';
import { createAndStart, dockerReachable, dockerWallSeconds, finishedRun, removeContainer, startTestAgent, waitFor } from './helpers.js';

const engineUp = await dockerReachable();

describe.skipIf(!engineUp && !requireServices())('time limit enforcement while dockerd cannot answer (real engine)', () => {
  it(`dockerd stopped at the deadline: killed through the container's cgroup ${KILL_ANSWER_MS} ms on; Docker's record and the verdict agree`, async () => {
    if (!engineUp) throw new Error('Docker engine or the flare-test/busybox image is missing (FLARE_TEST_REQUIRE_SERVICES is set)');
    const t = await startTestAgent({ enforceTimeLimit: true, killGraceSeconds: 0 });
    // The host engine's own pid file (the suite's pure-v2 dockerd has another).
    const dockerdPid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
    let dockerdStopped = false;
    let id: string | null = null;
    try {
      const c = await createAndStart({ cmd: ['sleep', '30'], labels: { 'flare.time_limit_s': '1' } });
      id = c.id;
      const before = await c.inspect();
      // True while the container's process lives (not a zombie, not a reused pid).
      const alive = aliveCheck(before.State.Pid);
      await waitFor(() => t.watcher.runOf(c.id) !== null, 5000, 'attach');
      await sleep(Math.max(0, Date.parse(before.State.StartedAt) + 600 - Date.now()));
      process.kill(dockerdPid, 'SIGSTOP');
      dockerdStopped = true;
      // The container's process dies while dockerd is still stopped: nobody but the agent killed it.
      const diedWhileStopped = await waitFor(() => !alive(), 1000 + KILL_ANSWER_MS + 2000, 'the container\'s process to die').then(() => true, () => false);
      process.kill(dockerdPid, 'SIGCONT');
      dockerdStopped = false;
      expect(diedWhileStopped).toBe(true);
      const run = await finishedRun(t.agent, c.id, 20_000);
      const info = await c.inspect();
      const dockerWall = dockerWallSeconds(info);
      console.log('killed while dockerd was stopped', { dockerWall, wallSeconds: run.summary!.wallSeconds, exitCode: info.State.ExitCode, flags: run.summary!.flags });
      expect(info.State.ExitCode).toBe(137);
      expect([run.status, run.summary!.terminationReason, run.summary!.exitCode]).toEqual(['timeout', 'killed at time limit', 137]);
      expect(run.summary!.flags.filter((f) => f === 'killed-through-cgroup')).toHaveLength(1);
      expect(run.summary!.killedThroughCgroup).toMatch(/^cgroup\.(kill|procs)$/);
      // Deadline (1 s) + the unanswered kill's 0.5 s, and the kernel's kill: not dockerd's later return.
      expect(dockerWall).toBeGreaterThanOrEqual(1 + KILL_ANSWER_MS / 1000);
      expect(dockerWall).toBeLessThan(1 + KILL_ANSWER_MS / 1000 + 0.5);
      expect(Math.abs(run.summary!.wallSeconds - dockerWall)).toBeLessThanOrEqual(0.02);
    } finally {
      if (dockerdStopped) process.kill(dockerdPid, 'SIGCONT');
      await t.stop();
      if (id) await removeContainer(id);
    }
  }, 60_000);
});
