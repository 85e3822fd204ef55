// Fault: a second `flare-agent start --db same.db` while one runs. It must exit 2 naming the holder,
// having changed nothing (it used to rewrite the live agent's running runs as interrupted before
// failing on the taken port). The lock dies with its holder: after a kill -9 a new agent starts.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStoreReadOnly } from '../../src/store/index.js';
import { runCli, tempDir } from '../helpers.js';
import { createAndStart, dockerReachable, removeContainer, TEST_LABEL, testTag, waitFor } from '../docker/helpers.js';
import { mustRun, startAgentChild, type AgentChild } from './helpers.js';

const engineUp = await dockerReachable();
const children: AgentChild[] = [];
afterAll(async () => {
  for (const c of children) await c.stop('SIGKILL');
});

function runsIn(db: string) {
  const store = openStoreReadOnly(db);
  try {
    return store.listRuns({}, 100).runs;
  } finally {
    store.close();
  }
}

describe.skipIf(!engineUp && !mustRun)('one agent per database', () => {
  it('a second start on the same database exits 2 naming the holder and changes nothing', async () => {
    if (!engineUp) throw new Error('Docker engine or the flare-test/busybox image is missing (FLARE_TEST_REQUIRE_SERVICES)');
    const db = join(tempDir('flare-second-'), 'agent.db');
    const first = await startAgentChild(['--db', db, '--select', `label:${TEST_LABEL}=${testTag}`]);
    children.push(first);
    const c = await createAndStart({ cmd: ['sleep', '30'] });
    try {
      await waitFor(() => runsIn(db).some((r) => r.containerId === c.id && r.status === 'running'), 15_000, 'the first agent to attach');
      const before = runsIn(db);

      // Same port or another one: refused before anything touches runs.
      const second = await runCli(['start', '--db', db, '--listen', '127.0.0.1:0', '--gpu-source', 'none', '--select', `label:${TEST_LABEL}=${testTag}`]);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`another agent (pid ${first.pid}) holds ${db}`);
      const after = runsIn(db);
      expect(after.map((r) => [r.id, r.status, r.endedWallMs])).toEqual(before.map((r) => [r.id, r.status, r.endedWallMs]));
      expect(after.find((r) => r.containerId === c.id)?.status).toBe('running');
      expect((await first.health()).ticks.count).toBeGreaterThan(0); // the first agent is undisturbed

      // kill -9: the kernel drops the lock with the process; the next agent starts and settles the run.
      await first.stop('SIGKILL');
      const third = await startAgentChild(['--db', db, '--select', `label:${TEST_LABEL}=${testTag}`]);
      children.push(third);
      expect(third.out()).not.toContain('another agent');
      await third.stop();
      console.log('second instance: exit 2,', JSON.stringify(second.stderr.trim()));
    } finally {
      await removeContainer(c.id);
    }
  });
});
