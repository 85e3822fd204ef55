// The Docker attachment on a pure cgroup v2 engine (scripts/dockerd-v2.sh), with the agent inside that
// engine's mount namespace, as on a current GPU server. Truth: the container's own cpu.stat usage_usec,
// polled independently until cgroup.events says `populated 0` (cgroup-truth.mjs). Under
// FLARE_TEST_REQUIRE_SERVICES an engine that will not start in this mode fails with dockerd's own error.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, sleep } from '../helpers.js';
import { aliveCheck } from '../../src/sources/proc-alive.js';
import { dockerWallSeconds, waitFor } from './helpers.js';
import { ChildAgent, cgroupTruth, createAndStartV2, dockerV2, startV2Engine, v2Controllers, type ApiRun } from './v2-engine.js';

/**
 * Shell text: `burners` background `yes`, stopped once the container's own cgroup (cgroupns private on
 * v2: /sys/fs/cgroup inside is the container's) has used `cpuSeconds`. Ends with `true`, so that no burner
 * is ever the container's PID 1 (PID 1 ignores SIGTERM).
 */
function burnUntil(cpuSeconds: number, burners = 1): string {
  const start = Array.from({ length: burners }, () => 'yes >/dev/null &').join(' ');
  return `${start} while :; do read k v < /sys/fs/cgroup/cpu.stat; [ "$v" -ge ${Math.round(cpuSeconds * 1e6)} ] && break; sleep 0.02; done; kill $(jobs -p) 2>/dev/null; wait; true`;
}

const engine = startV2Engine();
const engineError = 'error' in engine ? engine.error : null;
if (engineError && !requireServices()) console.warn(`pure-v2 Docker tests skipped: ${engineError}`);
const dockerdPid = 'pid' in engine ? engine.pid : 0;

const created: string[] = [];
afterAll(async () => {
  for (const id of created) await dockerV2.getContainer(id).remove({ force: true }).catch(() => undefined);
});

/** Runs a container to its end with the truth poller on it; returns Docker's inspect and the truth. */
async function runWithTruth(cmd: string[], labels: Record<string, string> = {}) {
  const c = await createAndStartV2(cmd, labels);
  created.push(c.id);
  const truth = cgroupTruth(dockerdPid, c.id);
  await c.wait();
  return { id: c.id, info: await c.inspect(), truthCpuSeconds: await truth };
}

function figures(label: string, run: ApiRun, truthCpuSeconds: number, dockerWall: number): void {
  console.log(`v2 ${label}: agent cpuSeconds=${run.cpuSeconds?.toFixed(6)} usage_usec=${truthCpuSeconds.toFixed(6)} wall=${run.wallSeconds.toFixed(6)} docker=${dockerWall.toFixed(6)} samples=${run.sampleCount} flags=${JSON.stringify(run.flags)}`);
}

describe.skipIf(engineError !== null && !requireServices())('pure cgroup v2 engine, agent in its mount namespace', () => {
  let agent: ChildAgent;
  const memory = engineError ? false : v2Controllers(dockerdPid).includes('memory');

  beforeAll(async () => {
    if (engineError) throw new Error(`the pure cgroup v2 dockerd is required (FLARE_TEST_REQUIRE_SERVICES is set): ${engineError}`);
    agent = await ChildAgent.start({ dockerdPid, inNamespace: true });
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it('/healthz names the v2 hierarchy the agent found', async () => {
    const h = await agent.health();
    console.log('v2 /healthz', JSON.stringify(h));
    expect(h.cgroup.hierarchies).toMatch(/^v2 at \/sys\/fs\/cgroup \(controllers: /);
    expect(h.cgroup.hierarchies).not.toContain('v1');
    expect(h.sources.cgroup.up).toBe(true);
    expect(h.sources.host.up).toBe(true);
  });

  it('one burner: cpuSeconds = the cgroup usage_usec, wall = Docker, RAM null without a memory controller', async () => {
    const { id, info, truthCpuSeconds } = await runWithTruth(['sh', '-c', burnUntil(2)]);
    const run = await agent.finishedRun(id);
    figures('1 burner', run, truthCpuSeconds, dockerWallSeconds(info));
    expect(run.status).toBe('completed');
    expect(truthCpuSeconds).toBeGreaterThanOrEqual(2);
    expect(Math.abs(run.cpuSeconds! - truthCpuSeconds)).toBeLessThan(0.001);
    expect(Math.abs(run.wallSeconds - dockerWallSeconds(info))).toBeLessThan(0.001);
    expect(run.flags).toContain('read-at-cgroup-empty');
    expect(run.cgroupMethod).toBe(`v2 at /sys/fs/cgroup/docker/${id}, ${memory ? 'memory there too' : 'memory: no memory controller holds it (RAM unknown)'}`);
    expect(run.flags).not.toContain('counter-unreadable');
    if (!memory) {
      expect(run.maxRamMiB).toBeNull();
      expect(run.aucRamMiBs).toBeNull();
    }
    const h = await agent.health();
    expect(h.cgroup.lastPicked).toBe(`v2 at /sys/fs/cgroup/docker/${id}, ${memory ? 'memory there too' : 'memory: no memory controller holds it (RAM unknown)'}`);
  });

  it('three forked burners: every child counted (cpuSeconds = usage_usec)', async () => {
    const { id, info, truthCpuSeconds } = await runWithTruth(['sh', '-c', burnUntil(3, 3)]);
    const run = await agent.finishedRun(id);
    figures('3 burners', run, truthCpuSeconds, dockerWallSeconds(info));
    expect(run.status).toBe('completed');
    expect(truthCpuSeconds).toBeGreaterThanOrEqual(3);
    expect(Math.abs(run.cpuSeconds! - truthCpuSeconds)).toBeLessThan(0.001);
    expect(Math.abs(run.wallSeconds - dockerWallSeconds(info))).toBeLessThan(0.001);
  });

  it('attaches late to a container already running, and its CPU counts from the container start', async () => {
    await agent.stop();
    const c = await createAndStartV2(['sh', '-c', burnUntil(0.5) + '; sleep 4; true']);
    created.push(c.id);
    const truth = cgroupTruth(dockerdPid, c.id);
    await sleep(1000);
    agent = await ChildAgent.start({ dockerdPid, inNamespace: true });
    await c.wait();
    const info = await c.inspect();
    const truthCpuSeconds = await truth;
    const run = await agent.finishedRun(c.id);
    figures('late attach', run, truthCpuSeconds, dockerWallSeconds(info));
    expect(run.flags).toContain('attached-late');
    expect(run.status).toBe('completed');
    expect(Math.abs(run.cpuSeconds! - truthCpuSeconds)).toBeLessThan(0.001);
    expect(Math.abs(run.wallSeconds - dockerWallSeconds(info))).toBeLessThan(0.001);
  });

  it.runIf(memory)('a memory hog over --memory 32m ends as oom (only where v2 has a memory controller)', async () => {
    const c = await createAndStartV2(['dd', 'if=/dev/zero', 'of=/m/x', 'bs=1M', 'count=100'], {}, { Memory: 32 << 20, MemorySwap: 32 << 20, Tmpfs: { '/m': 'size=128m' } });
    created.push(c.id);
    await c.wait();
    const run = await agent.finishedRun(c.id);
    expect(run.status).toBe('oom');
    expect(run.maxRamMiB!).toBeLessThanOrEqual(32.5);
  });
});

describe.skipIf(engineError !== null && !requireServices())('pure cgroup v2 engine: time limit enforcement', () => {
  it('kills the container at its limit; cpuSeconds = usage_usec at the kill', async () => {
    if (engineError) throw new Error(engineError);
    const agent = await ChildAgent.start({ dockerdPid, inNamespace: true, args: ['--enforce-time-limit', '--kill-grace-seconds', '0'] });
    try {
      const { id, info, truthCpuSeconds } = await runWithTruth(['sh', '-c', 'yes >/dev/null; true'], { 'flare.time_limit_s': '1' });
      const run = await agent.finishedRun(id);
      figures('killed at 1 s', run, truthCpuSeconds, dockerWallSeconds(info));
      expect(info.State.ExitCode).toBe(137);
      expect(run.status).toBe('timeout');
      expect(run.terminationReason).toBe('killed at time limit');
      expect(dockerWallSeconds(info)).toBeGreaterThan(1);
      expect(dockerWallSeconds(info)).toBeLessThan(1.25);
      expect(Math.abs(run.wallSeconds - dockerWallSeconds(info))).toBeLessThan(0.001);
      // Integrated up to the limit only (interpolated at the cut): at most the counter at the kill.
      expect(run.cpuSeconds!).toBeLessThanOrEqual(truthCpuSeconds + 0.001);
      expect(run.cpuSeconds!).toBeGreaterThan(0.2);
    } finally {
      await agent.stop();
    }
  });
});

describe.skipIf(engineError !== null && !requireServices())('enforcement while the pure v2 engine cannot answer', () => {
  it('dockerd stopped at the deadline: the agent kills through the container\'s v2 cgroup (cgroup.kill) and Docker records it', async () => {
    if (engineError) throw new Error(engineError);
    const agent = await ChildAgent.start({ dockerdPid, inNamespace: true, args: ['--enforce-time-limit', '--kill-grace-seconds', '0'] });
    let stopped = false;
    try {
      const c = await createAndStartV2(['sleep', '30'], { 'flare.time_limit_s': '1' });
      created.push(c.id);
      const before = await c.inspect();
      const alive = aliveCheck(before.State.Pid); // true while the container's process lives
      await sleep(Math.max(0, Date.parse(before.State.StartedAt) + 600 - Date.now()));
      process.kill(dockerdPid, 'SIGSTOP'); // the agent's kill request will get no answer
      stopped = true;
      const diedWhileStopped = await waitFor(() => !alive(), 3500, 'the container\'s process to die').then(() => true, () => false);
      process.kill(dockerdPid, 'SIGCONT');
      stopped = false;
      expect(diedWhileStopped).toBe(true);
      const run = await agent.finishedRun(c.id);
      const info = await c.inspect();
      console.log('v2 killed while dockerd was stopped', { dockerWall: dockerWallSeconds(info), wallSeconds: run.wallSeconds, flags: run.flags });
      expect(info.State.ExitCode).toBe(137);
      expect([run.status, run.terminationReason]).toEqual(['timeout', 'killed at time limit']);
      expect(run.flags).toContain('killed-through-cgroup');
      expect(run.killedThroughCgroup).toBe('cgroup.kill');
      expect(dockerWallSeconds(info)).toBeGreaterThanOrEqual(1.5);
      expect(dockerWallSeconds(info)).toBeLessThan(2);
      expect(Math.abs(run.wallSeconds - dockerWallSeconds(info))).toBeLessThan(0.001);
    } finally {
      if (stopped) process.kill(dockerdPid, 'SIGCONT');
      await agent.stop();
    }
  });
});

describe.skipIf(engineError !== null && !requireServices())('discovery follows the mount table (agent outside the engine namespace)', () => {
  it('a v1+v2 mount table and a v2-only container: picks v2 (the v1 lines say `/`), never the host root counter', async () => {
    if (engineError) throw new Error(engineError);
    const agent = await ChildAgent.start({ dockerdPid, inNamespace: false });
    try {
      const h = await agent.health();
      console.log('hybrid-namespace /healthz (v2 engine)', JSON.stringify(h.cgroup));
      const { id, info, truthCpuSeconds } = await runWithTruth(['sh', '-c', burnUntil(1)]);
      const run = await agent.finishedRun(id);
      figures('1 burner, agent outside the namespace', run, truthCpuSeconds, dockerWallSeconds(info));
      const v2Mount = /v2 at (\S+)/.exec(h.cgroup.hierarchies)?.[1];
      expect(v2Mount).toBeTruthy();
      expect(run.cgroupMethod).toMatch(new RegExp(`^v2 at ${v2Mount}/docker/${id}`));
      expect(Math.abs(run.cpuSeconds! - truthCpuSeconds)).toBeLessThan(0.001);
    } finally {
      await agent.stop();
    }
  });

  it('a namespace whose v2 mount no longer shows the cgroup (the issue\'s silent zero): null CPU, counter-unreadable, cgroup down', async () => {
    if (engineError) throw new Error(engineError);
    const agent = await ChildAgent.start({ dockerdPid, inNamespace: 'private' });
    try {
      // After the agent read its mount table, the v2 mount in its namespace is covered by an empty tmpfs:
      // the mount table still names it, but no container cgroup can be read there.
      const v2Mount = /v2 at (\S+)/.exec((await agent.health()).cgroup.hierarchies)![1];
      const cover = spawnSync('nsenter', [`--mount=/proc/${agent.pid}/ns/mnt`, '--', 'mount', '-t', 'tmpfs', 'none', v2Mount], { encoding: 'utf8' });
      expect(cover.status, cover.stderr).toBe(0);
      const c = await createAndStartV2(['sh', '-c', burnUntil(0.3) + '; sleep 1; true']);
      created.push(c.id);
      await waitForHealth(agent, (h) => !h.sources.cgroup.up);
      const h = await agent.health();
      console.log('stale-namespace /healthz', JSON.stringify({ sources: h.sources, cgroup: h.cgroup }));
      expect(h.sources.cgroup.reason).toMatch(/^counter-unreadable: .*does not hold the target.*v2: .*cpu\.stat does not exist/);
      expect(await agent.metrics()).toContain('flare_agent_source_up{source="cgroup"} 0');
      await c.wait();
      const run = await agent.finishedRun(c.id);
      console.log('stale-namespace run', JSON.stringify({ cpuSeconds: run.cpuSeconds, sampleCount: run.sampleCount, flags: run.flags }));
      expect(run.cpuSeconds).toBeNull();
      expect(run.flags).toContain('no-cgroup');
      expect(run.flags).toContain('counter-unreadable');
      expect(run.countersUnreadable).toEqual([expect.stringMatching(/does not hold the target/)]);
      expect(agent.log()).toMatch(/"level":"warn","msg":"counter unreadable/);
      // The run ended: the source comes back up (readers see the owner's snapshot, posted at the finish).
      await waitForHealth(agent, (h) => h.sources.cgroup.up);
    } finally {
      await agent.stop();
    }
  });
});

async function waitForHealth(agent: ChildAgent, cond: (h: Awaited<ReturnType<ChildAgent['health']>>) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond(await agent.health())) {
    if (Date.now() > deadline) throw new Error(`health condition not reached; agent log:\n${agent.log().slice(-2000)}`);
    await sleep(50);
  }
}
