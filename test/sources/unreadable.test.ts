// No silent zeros (docs/cgroups.md §4): a counter that cannot be read while its target lives is unknown
// (null), flagged on the run as `counter-unreadable` with the fact `<path>: <errno>`, logged, and holds its source down
// in /healthz and flare_agent_source_up. A counter that went away because the target ended is not.
import { spawn } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgent } from '../../src/daemon/agent.js';
import { createGpuAttributor } from '../../src/agent/gpu-attribution.js';
import { RunManager } from '../../src/agent/runs.js';
import { Sampler } from '../../src/agent/sampler.js';
import { noEvents } from '../../src/agent/stack.js';
import { DEFAULTS } from '../../src/agent/config.js';
import { FLARE22_PENALTIES } from '../../src/core/types.js';
import { noGpuSource } from '../../src/gpu/none.js';
import { silentLogger } from '../../src/log.js';
import { monoNowNs } from '../../src/clock/ticker.js';
import { detectCgroupMounts } from '../../src/cgroup/mounts.js';
import { CgroupReader } from '../../src/cgroup/counters.js';
import { CounterHealth } from '../../src/sources/counter-health.js';
import { HostSource } from '../../src/sources/host.js';
import { aliveCheck } from '../../src/sources/proc-alive.js';
import { openStore } from '../../src/store/index.js';
import { sleep, tempDir } from '../helpers.js';

const mounts = detectCgroupMounts();
const made: string[] = [];
afterAll(() => {
  for (const d of made) {
    try {
      rmdirSync(d);
    } catch {
      /* already removed by the test */
    }
  }
});

/** A real, empty v2 cgroup on this machine (hybrid: the unified mount; pure v2: the root). */
function realV2Cgroup(tag: string): string {
  expect(mounts.v2, 'cgroup2 must be mounted here').toBeTruthy();
  const dir = join(mounts.v2!, `flare-test-${process.pid}-${tag}`);
  mkdirSync(dir);
  made.push(dir);
  return dir;
}

describe('cgroup counters that cannot be read', () => {
  it('a cgroup removed while its target lives: null + counter-unreadable flag, never 0', () => {
    const dir = realV2Cgroup('vanish');
    const reader = new CgroupReader({ cpu: { version: 2, dir }, memory: null }, { alive: () => true });
    expect(reader.read()).toEqual({ cpuSeconds: 0, ramMiB: null });
    rmdirSync(dir);
    const r = reader.read();
    reader.close();
    expect(r.cpuSeconds).toBeNull();
    expect(r.gone).toBeUndefined();
    // The kept descriptor reads ENODEV once the cgroup is removed (ENOENT when opened again).
    expect(r.unreadable).toEqual([expect.stringMatching(new RegExp(`^${dir}/cpu\\.stat: (ENODEV|ENOENT)$`))]);
  });

  it('the same removal once the target has ended is the normal end: gone, no flag', () => {
    const dir = realV2Cgroup('ended');
    let alive = true;
    const reader = new CgroupReader({ cpu: { version: 2, dir }, memory: null }, { alive: () => alive });
    expect(reader.read().cpuSeconds).toBe(0);
    alive = false;
    rmdirSync(dir);
    expect(reader.read()).toEqual({ cpuSeconds: null, ramMiB: null, gone: true });
    reader.close();
  });

  it('a counter file that cannot be read (fixture: memory.current is not a file): RAM null + flag, CPU still read', () => {
    const dir = tempDir('flare-cg-');
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1500000\n');
    mkdirSync(join(dir, 'memory.current'));
    writeFileSync(join(dir, 'memory.stat'), 'inactive_file 0\n');
    const reader = new CgroupReader({ cpu: { version: 2, dir }, memory: { version: 2, dir } });
    const r = reader.read();
    expect(r.cpuSeconds).toBe(1.5);
    expect(r.ramMiB).toBeNull();
    expect(r.unreadable).toEqual([`${join(dir, 'memory.current')}: EISDIR`]);
    // Each read says what failed in it, not in the reads before it; a file that reads again is whole.
    expect(reader.read().unreadable).toEqual([`${join(dir, 'memory.current')}: EISDIR`]);
    rmdirSync(join(dir, 'memory.current'));
    writeFileSync(join(dir, 'memory.current'), '2097152\n');
    expect(reader.read()).toEqual({ cpuSeconds: 1.5, ramMiB: 2 });
    reader.close();
  });

  it('through the agent: the run stores null samples with the flag, cpuSeconds null; /healthz and /metrics say cgroup down until it ends', async () => {
    const dir = realV2Cgroup('agent');
    const agent = await startAgent({ ...DEFAULTS, db: join(tempDir('flare-unreadable-'), 'a.db'), listen: '127.0.0.1:0', gpuSource: 'none', intervalMs: 50 }, silentLogger);
    try {
      const reader = new CgroupReader({ cpu: { version: 2, dir }, memory: null }, { alive: () => true });
      rmdirSync(dir); // unreadable from the first read on: the "every counter read failed" case
      const run = agent.stack.runs.start({
        identity: { kind: 'profile', team: 't', case: 'c', node: 'n' }, reader, gpuKey: null,
        startedWallMs: Date.now(), startedMonoNs: monoNowNs(), timeLimitSeconds: null,
      });
      await sleep(300);
      const health = (await (await fetch(`http://127.0.0.1:${agent.port}/healthz`)).json()) as { sources: Record<string, { up: boolean; reason?: string }> };
      console.log('/healthz with an unreadable counter', JSON.stringify(health.sources.cgroup));
      expect(health.sources.cgroup.up).toBe(false);
      expect(health.sources.cgroup.reason).toMatch(new RegExp(`^counter-unreadable: ${dir}/cpu\\.stat: E[A-Z]+$`));
      const metrics = await (await fetch(`http://127.0.0.1:${agent.port}/metrics`)).text();
      expect(metrics).toContain('flare_agent_source_up{source="cgroup"} 0');
      expect(metrics).toMatch(/flare_agent_source_errors_total\{source="cgroup"\} 1\b/);
      const done = (await agent.stack.runs.finish(run.id, { status: 'completed', terminationReason: 'exited', exitCode: 0, endedWallMs: Date.now(), endedMonoNs: monoNowNs() }))!;
      const s = done.summary!;
      expect(s.cpuSeconds).toBeNull();
      expect(s.aucCpuPctS).toBeNull();
      expect(s.scoring.aucCpuPctS).toBeNull();
      expect(s.sampleCount).toBeGreaterThan(0);
      expect(s.flags).toContain('counter-unreadable');
      expect(s.countersUnreadable).toEqual([expect.stringMatching(new RegExp(`^${dir}/cpu\\.stat: E[A-Z]+$`))]);
      expect(agent.store.getRunSamples(run.id).every((x) => x.cpuSeconds === null)).toBe(true);
      expect(agent.live.health().sources.cgroup.up).toBe(true); // the run ended: nothing unreadable now
    } finally {
      await agent.stop();
    }
  });
});

describe('host counters that cannot be read', () => {
  const STAT = 'cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 100 0 50 1000 0 0 0 0 0 0\n';

  it('/proc/meminfo unreadable (fixture proc root): read() is null with the path and errno, never zeros', () => {
    const root = tempDir('flare-proc-');
    writeFileSync(join(root, 'stat'), STAT);
    mkdirSync(join(root, 'meminfo'));
    const h = new HostSource(root);
    expect(h.onlineCpus).toBe(1);
    expect(h.read()).toBeNull();
    expect(h.failure).toBe(`counter-unreadable: ${join(root, 'meminfo')}: EISDIR`);
    h.close();
  });

  it('in the sampler: no node sample is stored (unknown), and the host source is down', async () => {
    const root = tempDir('flare-proc-');
    writeFileSync(join(root, 'stat'), STAT);
    mkdirSync(join(root, 'meminfo'));
    const store = openStore(join(tempDir(), 'host.db'));
    const flags: string[] = [];
    const counters = new CounterHealth((_s, _k, flag) => flags.push(flag));
    const runs = new RunManager(store, { node: 'n', nCpu: 1, intervalMs: 50, gpuToleranceMiB: 0, penalties: FLARE22_PENALTIES, partialSummaryEveryMs: 60_000 });
    const sampler = new Sampler({ intervalMs: 50, host: new HostSource(root), gpu: noGpuSource(), attributeGpu: createGpuAttributor(), runs, store, events: noEvents, counters });
    const t0 = Date.now();
    sampler.start();
    await sleep(300);
    sampler.stop();
    store.flush();
    expect(store.getNodeSamples(t0 - 1000, Date.now() + 1000)).toEqual([]);
    expect(sampler.lastNodeSample()).toBeNull();
    expect(counters.status('host', { up: true })).toEqual({ up: false, reason: `counter-unreadable: ${join(root, 'meminfo')}: EISDIR` });
    expect(flags).toHaveLength(1); // reported once, not per tick
    store.close();
  });
});

describe('is the target alive (proc-alive)', () => {
  it('true for a live process, false once it has exited (zombie or reaped), false without a pid', async () => {
    expect(aliveCheck(process.pid)()).toBe(true);
    expect(aliveCheck(0)()).toBe(false);
    const child = spawn('sleep', ['0.3']);
    const alive = aliveCheck(child.pid!);
    expect(alive()).toBe(true);
    await new Promise((r) => child.on('exit', r));
    await sleep(50);
    expect(alive()).toBe(false);
  });
});
