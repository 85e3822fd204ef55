// kill -9 of a process that is writing a run: the file must stay intact and the run become 'interrupted'
// when the agent next starts, with the partial summary of what was stored.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PROFILE_CGROUP_PREFIX } from '../../src/cgroup/proc-cgroup.js';
import { detectCgroupMounts } from '../../src/cgroup/mounts.js';
import { openStoreReadOnly } from '../../src/store/index.js';
import { CLI, runCli, sleep, tempDir } from '../helpers.js';

describe('crash safety', () => {
  it('kill -9 while writing; restart; integrity ok; run interrupted with its samples', async () => {
    const db = join(tempDir(), 'crash.db');
    const child = spawn(process.execPath, [CLI, 'profile', '--db', db, '--gpu-source', 'none', '--interval-ms', '20', '--', 'sh', '-c', 'while :; do :; done # flare-crash-test'], { stdio: 'ignore' });
    await sleep(3500);
    const killedAtWallMs = Date.now();
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    // The profiled shell was in its own cgroup and survives its parent: end it.
    spawn('pkill', ['-KILL', '-f', 'flare-crash-test']);

    const raw = new Database(db, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();

    // The agent's start closes runs left running; listen on a free port, stop it right away.
    const agent = spawn(process.execPath, [CLI, 'start', '--db', db, '--listen', '127.0.0.1:0', '--gpu-source', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    agent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 300 && !out.includes('"listening"'); i++) await sleep(100);
    agent.kill('SIGTERM');
    const code = await new Promise((r) => agent.on('exit', r));
    expect(code).toBe(0);
    expect(out).toMatch(/closed as interrupted/);

    const store = openStoreReadOnly(db);
    const { runs } = store.listRuns({}, 10);
    expect(runs).toHaveLength(1);
    const run = runs[0];
    expect(run.status).toBe('interrupted');
    expect(run.summary?.terminationReason).toBe('agent interrupted');
    const samples = store.getRunSamples(run.id);
    // Flushed at least every second: what is lost is at most the last unflushed second (+ scheduling slack).
    expect(samples.length).toBeGreaterThan(20);
    const lostMs = killedAtWallMs - samples.at(-1)!.wallMs;
    console.log(`kill -9: ${samples.length} samples survived, last one ${lostMs} ms before the kill`);
    expect(lostMs).toBeLessThan(1300);
    expect(run.summary!.cpuSeconds).toBeGreaterThan(0.2);
    expect(run.summary!.flags).toContain('recovered-after-agent-stop');
    store.close();
    const check = new Database(db, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();

    // The killed profile left its (now empty) cgroup behind; the next profile removes such leftovers.
    const mounts = detectCgroupMounts();
    const leftovers = (): string[] =>
      [mounts.v1['cpuacct'], mounts.v1['memory'], mounts.v2]
        .filter((d): d is string => Boolean(d))
        .flatMap((d) => readdirSync(d).filter((n) => n.startsWith(PROFILE_CGROUP_PREFIX)).map((n) => join(d, n)))
        .filter((dir) => readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === '');
    await sleep(200);
    expect(leftovers().length).toBeGreaterThan(0);
    const next = await runCli(['profile', '--gpu-source', 'none', '--', 'true']);
    expect(next.code).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it('start with no Docker and no GPU still serves /healthz saying what is missing', async () => {
    const db = join(tempDir(), 'h.db');
    const agent = spawn(process.execPath, [CLI, 'start', '--db', db, '--listen', '127.0.0.1:0', '--gpu-source', 'auto', '--nvml-lib', '/nonexistent/libnvidia-ml.so.1', '--docker-host', '/nonexistent/docker.sock'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    agent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // The port is open ("listening") before the sources start; their state is final once sampling runs.
    for (let i = 0; i < 300 && !out.includes('"sampler started"'); i++) await sleep(100);
    const port = Number(/"port":(\d+)/.exec(out)?.[1]);
    const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { sources: Record<string, { up: boolean; reason?: string }>; gpuSource: { active: string } };
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    agent.kill('SIGTERM');
    await new Promise((r) => agent.on('exit', r));
    expect(health.gpuSource.active).toBe('none');
    expect(health.sources.gpu.up).toBe(false);
    expect(health.sources.gpu.reason).toMatch(/no GPU source/);
    expect(health.sources.docker.up).toBe(false);
    expect(health.sources.docker.reason).toBeTruthy();
    expect(health.sources.cgroup.up).toBe(true);
    expect(metrics).toMatch(/flare_/);
    expect(out).toMatch(/no GPU source/);
  });
});
