// The agent restarting while a container runs (an upgrade, a crash): the new agent attaches to the
// container late and links its run to the one the earlier agent left unfinished; a container that
// ended while no agent ran is settled from Docker's record, after a clean stop as after a crash.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireServices, sleep, tempDir } from '../helpers.js';
import { SETTLED_FLAG } from '../../src/agent/recover.js';
import { EVENT_LOG_FLAG } from '../../src/runtime/docker/settle.js';
import { parseDockerTimeNs } from '../../src/runtime/docker/time.js';
import { createAndStart, docker, dockerReachable, removeContainer, startTestAgent, waitFor } from './helpers.js';

const engineUp = await dockerReachable();

describe.skipIf(!engineUp && !requireServices())('agent restart under a running container (real engine)', () => {
  it('a clean stop and a new agent on the same database: the container continues in a linked run', async () => {
    if (!engineUp) throw new Error('Docker engine is required (FLARE_TEST_REQUIRE_SERVICES)');
    const db = join(tempDir('flare-restart-'), 'agent.db');
    const a = await startTestAgent({ db });
    const c = await createAndStart({ cmd: ['sh', '-c', 'timeout 3 sh -c "while :; do :; done"; echo done'] });
    try {
      await waitFor(() => a.watcher.runOf(c.id) !== null, 5000, 'the first agent to attach');
      const firstRunId = a.watcher.runOf(c.id)!;
      await sleep(700);
      await a.stop(); // closes its run as interrupted
      const b = await startTestAgent({ db });
      try {
        await waitFor(() => b.watcher.runOf(c.id) !== null, 5000, 'the second agent to attach');
        const secondRunId = b.watcher.runOf(c.id)!;
        expect(secondRunId).not.toBe(firstRunId);
        await c.wait();
        // Both runs start at the same Docker StartedAt, so pick the second agent's run by id, not by time.
        await waitFor(() => b.agent.store.getRun(secondRunId)?.status !== 'running', 10_000, 'the linked run to finish');
        const run = b.agent.store.getRun(secondRunId)!;
        const first = b.agent.store.getRun(firstRunId)!;
        console.log('agent restart: first run', first.status, first.summary?.cpuSeconds, '→ linked run', run.status, run.summary?.cpuSeconds, run.summary?.flags);
        expect(first.status).toBe('interrupted');
        expect(first.summary!.terminationReason).toBe('agent interrupted');
        expect(run.previousRunId).toBe(firstRunId);
        expect(run.status).toBe('completed');
        expect(run.summary!.flags).toContain('attached-late');
        expect(run.summary!.attachedLateSeconds).toBeGreaterThan(0);
        // Same container life: both runs start at Docker's StartedAt, and the cgroup counter kept counting
        // while no agent ran, so the second run's CPU covers the whole container.
        expect(run.startedWallMs).toBe(first.startedWallMs);
        expect(run.summary!.cpuSeconds).toBeGreaterThan(first.summary!.cpuSeconds!);
      } finally {
        await b.stop();
      }
    } finally {
      await removeContainer(c.id);
    }
  });

  it('a clean stop, the container ends, a new agent: its run is settled from Docker\'s record as after a crash', async () => {
    if (!engineUp) throw new Error('Docker engine is required (FLARE_TEST_REQUIRE_SERVICES)');
    const db = join(tempDir('flare-restart-'), 'agent.db');
    const a = await startTestAgent({ db });
    const c = await createAndStart({ cmd: ['sh', '-c', 'sleep 1.5; exit 3'] });
    try {
      await waitFor(() => a.watcher.runOf(c.id) !== null, 5000, 'the first agent to attach');
      const runId = a.watcher.runOf(c.id)!;
      await a.stop(); // closes its run as interrupted
      await c.wait(); // ends while no agent runs
      const b = await startTestAgent({ db });
      try {
        const run = b.agent.store.getRun(runId)!;
        const state = (await docker.getContainer(c.id).inspect()).State;
        const dockerWallSeconds = Number(parseDockerTimeNs(state.FinishedAt)! - parseDockerTimeNs(state.StartedAt)!) / 1e9;
        console.log('stopped agent, container ended, settled:', run.status, run.summary?.exitCode, run.summary?.wallSeconds, dockerWallSeconds, run.summary?.flags);
        expect([run.status, run.summary!.exitCode, run.summary!.terminationReason]).toEqual(['failed', 3, 'exited']);
        expect(run.summary!.wallSeconds).toBeCloseTo(dockerWallSeconds, 6);
        expect(run.summary!.flags).toContain(SETTLED_FLAG);
        // One run for the container's one life: the new agent created none.
        expect(b.agent.store.listRuns({}, 100).runs.filter((r) => r.containerId === c.id)).toHaveLength(1);
      } finally {
        await b.stop();
      }
    } finally {
      await removeContainer(c.id);
    }
  });

  it('a clean stop, a --rm container ends and is removed, a new agent: settled from Docker\'s event log', async () => {
    if (!engineUp) throw new Error('Docker engine is required (FLARE_TEST_REQUIRE_SERVICES)');
    const db = join(tempDir('flare-restart-'), 'agent.db');
    const a = await startTestAgent({ db });
    // As the FLARE harness runs every case: `docker container run --rm`.
    const c = await createAndStart({ cmd: ['sh', '-c', 'sleep 1.5; exit 4'], hostConfig: { AutoRemove: true } });
    try {
      await waitFor(() => a.watcher.runOf(c.id) !== null, 5000, 'the first agent to attach');
      const runId = a.watcher.runOf(c.id)!;
      const startedWallMs = a.agent.store.getRun(runId)!.startedWallMs;
      await a.stop(); // closes its run as interrupted
      await waitFor(async () => (await docker.getContainer(c.id).inspect().then(() => false, () => true)), 10_000, 'the container to end and be removed');
      const b = await startTestAgent({ db });
      try {
        const run = b.agent.store.getRun(runId)!;
        console.log('stopped agent, --rm container ended, settled:', run.status, run.summary?.exitCode, run.summary?.wallSeconds, run.summary?.flags);
        expect([run.status, run.summary!.exitCode, run.summary!.terminationReason]).toEqual(['failed', 4, 'exited']);
        expect(run.summary!.flags).toEqual(expect.arrayContaining([SETTLED_FLAG, EVENT_LOG_FLAG]));
        // The die event's time: the 1.5-s sleep plus the shell's start and Docker's handling of the exit.
        expect(run.summary!.wallSeconds).toBeGreaterThan(1.5);
        expect(run.summary!.wallSeconds).toBeLessThan(2.5);
        expect(run.endedWallMs! - startedWallMs).toBeCloseTo(run.summary!.wallSeconds * 1000, -1);
      } finally {
        await b.stop();
      }
    } finally {
      await removeContainer(c.id);
    }
  });
});
