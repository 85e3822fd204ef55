// The watcher over time and failure: 200 containers in a row through a child agent (RSS and fds flat),
// then dockerd killed and restarted under a running container (last: it takes the engine away).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, requireServices, sleep, tempDir } from '../helpers.js';
import {
  createAndStart, docker, dockerReachable, finishedRun, IMAGE, removeContainer, startTestAgent, TEST_LABEL, testTag, waitFor,
} from './helpers.js';

const engineUp = await dockerReachable();
const CHURN = 200;

function restartDockerd(): void {
  execFileSync('bash', ['-c', '. scripts/services.sh; start_dockerd'], { stdio: 'inherit', timeout: 60_000 });
}

/** The same, without blocking the event loop the in-process agent samples on. */
function restartDockerdAsync(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', '. scripts/services.sh; start_dockerd'], { timeout: 60_000 }, (err) => (err ? reject(err) : resolve()));
  });
}

function procFigures(pid: number): { rssKiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
}

describe.skipIf(!engineUp && !requireServices())('Docker attachment under churn and engine restarts (real engine)', () => {
  afterAll(() => {
    // Whatever happened above, leave the engine running for the files after this one.
    if (!existsSync('/var/run/docker.sock') || !execFileSync('bash', ['-c', 'docker info >/dev/null 2>&1 && echo up || true']).toString().includes('up')) {
      rmSync('/var/run/docker.pid', { force: true });
    }
    restartDockerd();
  });

  it(`${CHURN} short containers in a row: ${CHURN} runs, agent RSS and open fds flat (±10 %)`, async () => {
    if (!engineUp) throw new Error('Docker engine or the flare-test/busybox image is missing (FLARE_TEST_REQUIRE_SERVICES is set)');
    const tag = `${testTag}-churn`;
    const db = join(tempDir('flare-churn-'), 'agent.db');
    const agent: ChildProcess = spawn(process.execPath, [CLI, 'start', '--db', db, '--listen', '127.0.0.1:0', '--gpu-source', 'none', '--select', `label:${TEST_LABEL}=${tag}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let finished = 0;
    let connected = false;
    let pending = '';
    agent.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"run finished"')) finished++;
        if (line.includes('"docker connected"')) connected = true;
      }
    });
    try {
      await waitFor(() => connected, 15_000, 'the child agent to connect to Docker');
      let started = 0;
      const runBatch = async (upTo: number): Promise<void> => {
        // Two at a time: the engine's create/start/remove (vfs storage) dominates, not the agent.
        // Removed once the batch's runs are closed: a container removed within milliseconds of its
        // start can be gone before the agent's inspect (a separate edge, not what this test measures).
        const ended: Docker.Container[] = [];
        const worker = async (): Promise<void> => {
          while (started < upTo) {
            started++;
            const c = await docker.createContainer({ Image: IMAGE, Cmd: ['true'], Labels: { [TEST_LABEL]: tag }, HostConfig: { NetworkMode: 'none' } });
            await c.start();
            await c.wait();
            ended.push(c);
          }
        };
        await Promise.all([worker(), worker()]);
        await waitFor(() => finished >= upTo, 20_000, `${upTo} runs to finish`);
        for (const c of ended) await c.remove();
      };
      const t0 = Date.now();
      await runBatch(40); // warm-up: code paths, SQLite page cache, V8 heap
      await sleep(500);
      const warm = procFigures(agent.pid!);
      await runBatch(CHURN);
      await sleep(500);
      const end = procFigures(agent.pid!);
      console.log('churn', { containers: CHURN, seconds: (Date.now() - t0) / 1000, warm, end });
      expect(finished).toBe(CHURN);
      // Growth is what a leak shows; a lower RSS at the end is the GC returning memory.
      expect((end.rssKiB - warm.rssKiB) / warm.rssKiB).toBeLessThan(0.1);
      expect(Math.abs(end.fds - warm.fds) / warm.fds).toBeLessThan(0.1);
    } finally {
      agent.kill('SIGTERM');
      await new Promise((r) => agent.once('close', r));
    }
    const { openStore } = await import('../../src/store/index.js');
    const store = openStore(db);
    try {
      const runs = store.listRuns({}, 1000).runs;
      expect(runs).toHaveLength(CHURN);
      expect(runs.every((r) => r.status === 'completed')).toBe(true);
    } finally {
      store.close();
    }
  }, 180_000);

  it('dockerd killed and restarted while a container runs: reconnects, settles the run, keeps working', async () => {
    if (!engineUp) throw new Error('Docker engine or the flare-test/busybox image is missing (FLARE_TEST_REQUIRE_SERVICES is set)');
    const t = await startTestAgent();
    const ids: string[] = [];
    try {
      const c = await createAndStart({ cmd: ['sleep', '4'] });
      ids.push(c.id);
      await waitFor(() => t.watcher.runOf(c.id) !== null, 5000, 'attach');
      // A second one that ends while dockerd is down: its `die` is never streamed; the re-list settles it.
      const short = await createAndStart({ cmd: ['sleep', '0.8'] });
      ids.push(short.id);
      await waitFor(() => t.watcher.runOf(short.id) !== null, 5000, 'attach');
      const firstRunId = t.watcher.runOf(c.id);
      // The host engine's own pid file, not `pidof dockerd`: the suite also runs a pure-v2 dockerd
      // (scripts/dockerd-v2.sh), and killing that one would leave this agent's engine up.
      const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
      expect(pid).toBeGreaterThan(1);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !existsSync(`/proc/${pid}`), 5000, 'dockerd to die');
      rmSync('/var/run/docker.pid', { force: true }); // a killed dockerd leaves it, and a new one refuses to start
      await waitFor(() => !t.agent.live.health().sources.docker.up, 5000, 'docker reported down');
      expect(t.agent.live.health().sources.docker.reason).toBeTruthy();
      await sleep(1500);
      await restartDockerdAsync();
      await waitFor(() => t.agent.live.health().sources.docker.up, 15_000, 'docker reported up again');
      const run = await finishedRun(t.agent, c.id, 15_000);
      console.log('after dockerd restart', { sameRun: run.id === firstRunId, status: run.status, reason: run.summary!.terminationReason, wallSeconds: run.summary!.wallSeconds, samples: run.summary!.sampleCount, flags: run.summary!.flags });
      // Sampling never depended on Docker: the cgroup was read on every tick through the outage.
      expect(run.summary!.sampleCount).toBeGreaterThan(run.summary!.wallSeconds * 10 * 0.8);
      expect(['completed', 'failed', 'interrupted']).toContain(run.status);
      const shortRun = await finishedRun(t.agent, short.id, 15_000);
      console.log('ended while dockerd was down', { status: shortRun.status, reason: shortRun.summary!.terminationReason, wallSeconds: shortRun.summary!.wallSeconds, flags: shortRun.summary!.flags });
      expect(shortRun.summary!.sampleCount).toBeGreaterThan(0);
      expect(shortRun.summary!.cpuSeconds).toBeGreaterThan(0);
      // The agent still attaches to new containers.
      const after = await createAndStart({ cmd: ['sleep', '0.3'] });
      ids.push(after.id);
      await after.wait();
      expect((await finishedRun(t.agent, after.id)).status).toBe('completed');
    } finally {
      await t.stop();
      for (const id of ids) await removeContainer(id).catch(() => undefined);
    }
  }, 90_000);
});
