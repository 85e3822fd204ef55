// Fault: a second `flare-agent start --db same.db` while one runs. It must exit 2 naming the holder,
// having changed nothing (it used to rewrite the live agent's running runs as interrupted before
// failing on the taken port). The lock dies with its holder: after a kill -9 a new agent starts.
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStoreReadOnly } from '../../src/store/index.js';
import { CLI, runCli, sleep, tempDir } from '../helpers.js';
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

/** Whether the database holds a running run yet (false while the file is still being created). */
function hasRunning(db: string): boolean {
  try {
    return runsIn(db).some((r) => r.status === 'running');
  } catch {
    return false;
  }
}

/** `flare-agent profile --db <db> -- sleep <s>` as a child: its run is written by the profile process. */
function startProfile(db: string, seconds: number) {
  const child = spawn(process.execPath, [CLI, 'profile', '--db', db, '--team', 'p', '--case', 'sleep', '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit };
}

describe('the lock is the file\'s, and recovery leaves live writers alone', () => {
  it('a symlink to the database, or to its folder, meets the same lock; a hard-linked file is refused', async () => {
    const dir = tempDir('flare-lock-');
    const db = join(dir, 'real', 'agent.db');
    const first = await startAgentChild(['--db', db, '--select', 'name:^never$']);
    children.push(first);
    mkdirSync(join(dir, 'other'));
    symlinkSync(db, join(dir, 'other', 'link.db'));
    symlinkSync(join(dir, 'real'), join(dir, 'dirlink'));
    for (const path of [join(dir, 'other', 'link.db'), join(dir, 'dirlink', 'agent.db'), join(dir, 'real', '..', 'real', 'agent.db')]) {
      const second = await runCli(['start', '--db', path, '--listen', '127.0.0.1:0', '--gpu-source', 'none', '--select', 'name:^never$']);
      expect(second.code, path).toBe(2);
      expect(second.stderr).toContain(`another agent (pid ${first.pid}) holds ${path}`);
    }
    // A dangling symlink resolves to the file it will create: a second agent through it meets the first's lock.
    const fresh = join(dir, 'fresh', 'agent.db');
    mkdirSync(join(dir, 'fresh'));
    symlinkSync(fresh, join(dir, 'fresh-link.db'));
    const viaLink = await startAgentChild(['--db', join(dir, 'fresh-link.db'), '--select', 'name:^never$']);
    children.push(viaLink);
    const direct = await runCli(['start', '--db', fresh, '--listen', '127.0.0.1:0', '--gpu-source', 'none']);
    expect(direct.code).toBe(2);
    expect(direct.stderr).toContain(`another agent (pid ${viaLink.pid})`);
    expect(await viaLink.stop()).toBe(0);
    expect(await first.stop()).toBe(0);
    linkSync(db, join(dir, 'other', 'hard.db'));
    const hard = await runCli(['start', '--db', db, '--listen', '127.0.0.1:0', '--gpu-source', 'none']);
    expect(hard.code).toBe(2);
    expect(hard.stderr).toMatch(/has 2 hard links/);
  });

  it('an agent started beside a live `profile --db` leaves its run alone; a killed profile\'s run is settled at the next start', async () => {
    const db = join(tempDir('flare-writer-'), 'agent.db');
    const profile = startProfile(db, 6);
    await waitFor(() => hasRunning(db), 15_000, 'the profile run');
    const agent = await startAgentChild(['--db', db, '--select', 'name:^never$']);
    children.push(agent);
    expect(agent.out()).toContain('run of a live writer left running');
    expect(runsIn(db)[0].status).toBe('running');
    expect(await profile.exit).toBe(0);
    const [done] = runsIn(db);
    expect(done.status).toBe('completed');
    expect(done.summary?.flags).not.toContain('recovered-after-agent-stop');
    expect(done.summary!.wallSeconds).toBeGreaterThan(5.9);

    // The writer killed: its run is the next agent's to settle.
    const killed = startProfile(db, 30);
    await waitFor(() => hasRunning(db), 15_000, 'the second profile run');
    await sleep(500);
    killed.child.kill('SIGKILL');
    await killed.exit;
    expect(await agent.stop()).toBe(0);
    const next = await startAgentChild(['--db', db, '--select', 'name:^never$']);
    children.push(next);
    expect(next.out()).toContain('closed as interrupted');
    const left = runsIn(db).find((r) => r.id !== done.id)!;
    expect(left.status).toBe('interrupted');
    expect(left.summary?.flags).toContain('recovered-after-agent-stop');
    expect(await next.stop()).toBe(0);
  });
});

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
