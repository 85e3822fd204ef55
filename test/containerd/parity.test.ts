// Where the containerd attachment used to disagree with the Docker one, against a real standalone
// containerd and kubelet-made pods (helpers.ts), with the agent in this process:
// - a container whose counters no cgroup hierarchy holds marks the cgroup source down (Docker did);
// - enforcement gives --kill-grace-seconds: SIGTERM first, SIGKILL after the grace (Docker did);
// - a task killed by someone else is `killed externally` (Docker's `kill` event said so).
// A run an earlier agent left unfinished is linked as previousRunId: test/containerd/recovery.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../src/daemon/agent.js';
import type { AgentConfig } from '../../src/agent/config.js';
import type { Run } from '../../src/core/types.js';
import { requireServices, sleep, tempDir } from '../helpers.js';
import { finished } from '../runtime/contract.js';
import { containerdInstalled, makePod, runWorkload, startContainerd, startContainerdAgent, type Containerd, type Pod } from './helpers.js';

const available = containerdInstalled();
if (!available && requireServices()) throw new Error('containerd (apt: containerd), ctr, root and the flare-test/busybox image are required (FLARE_TEST_REQUIRE_SERVICES)');
const tag = Math.random().toString(16).slice(2, 10);

describe.skipIf(!available)('containerd attachment: what Docker\'s already did', () => {
  let c: Containerd;
  const pods: Pod[] = [];
  const agents: RunningAgent[] = [];
  beforeAll(async () => {
    c = await startContainerd();
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) await a.stop();
    for (const p of pods) p.remove();
    await c?.stop();
  }, 120_000);

  async function agentWith(overrides: Partial<AgentConfig>): Promise<RunningAgent> {
    const agent = await startContainerdAgent(c, tag, overrides);
    agents.push(agent);
    return agent;
  }

  function start(kase: string, cmd: string, extra: Record<string, string> = {}): { pod: Pod; done: Promise<string> } {
    const spec = { podLabels: { 'flare.test': tag, 'flare.team': 'parity', 'flare.case': kase, ...extra }, cmd };
    const pod = makePod(c, spec);
    pods.push(pod);
    return { pod, done: runWorkload(c, pod, spec, false) };
  }

  async function attached(agent: RunningAgent, containerId: string): Promise<Run> {
    for (let i = 0; i < 200; i++) {
      const run = agent.store.listRuns({}, 1000).runs.find((r) => r.containerId === containerId);
      if (run) return run;
      await sleep(25);
    }
    throw new Error(`${containerId} never attached`);
  }

  it('enforcement with a grace period: SIGTERM first (the workload ends itself, exit 0), within limit + grace; a timeout', async () => {
    const agent = await agentWith({ enforceTimeLimit: true, killGraceSeconds: 3, timeLimit: 1 });
    const { pod, done } = start('graceful', "trap 'echo got-term; exit 0' TERM; while true; do sleep 0.1; done");
    const stdout = await done;
    const run = await finished(agent, pod.containerId);
    const s = run.summary!;
    console.log('containerd grace', JSON.stringify({ status: run.status, reason: s.terminationReason, exitCode: s.exitCode, wallSeconds: s.wallSeconds, stdout: stdout.trim() }));
    expect(stdout).toContain('got-term');
    expect([run.status, s.terminationReason, s.exitCode]).toEqual(['timeout', 'killed at time limit', 0]);
    expect(s.wallSeconds).toBeGreaterThanOrEqual(1);
    expect(s.wallSeconds).toBeLessThan(1 + 3);
  });

  it('a task someone else kills is `killed externally` (failed, 137)', async () => {
    const agent = await agentWith({});
    const { pod, done } = start('killed', 'sleep 30');
    await attached(agent, pod.containerId);
    c.ctr(['task', 'kill', '-s', 'KILL', pod.containerId]);
    await done;
    const run = await finished(agent, pod.containerId);
    expect([run.status, run.summary!.terminationReason, run.summary!.exitCode]).toEqual(['failed', 'killed externally', 137]);
  });

  it('a container whose counters no hierarchy holds: counter-unreadable, null CPU, the cgroup source down while it runs', async () => {
    const agent = await agentWith({});
    // The mount table as an agent in a stale mount namespace sees it: hierarchies that do not hold the pod.
    const empty = tempDir('flare-ctd-nocg-');
    agent.stack.mounts = { v1: { cpuacct: empty, cpu: empty, memory: empty }, v2: empty, v2Controllers: ['cpu', 'memory'] };
    const { pod, done } = start('no-cgroup', 'sleep 1.5');
    await attached(agent, pod.containerId);
    for (let i = 0; i < 100 && agent.live.health().sources.cgroup.up; i++) await sleep(20);
    expect(agent.live.health().sources.cgroup).toMatchObject({ up: false, reason: expect.stringMatching(/^counter-unreadable: /) });
    await done;
    const run = await finished(agent, pod.containerId);
    expect(run.summary!.cpuSeconds).toBeNull();
    expect(run.summary!.flags).toContain('no-cgroup');
    expect(run.summary!.flags).toContain('counter-unreadable');
    expect(run.summary!.countersUnreadable).toEqual([expect.stringMatching(/cgroup|cpuacct|cpu\.stat/)]); // why, in words (cgroup-mounts.ts)
  });
});
