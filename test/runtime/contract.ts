// The assertions every runtime attachment must pass, shared by the Docker and containerd suites: a
// CPU burner measured to its end (identity from the organiser's labels, cpuSeconds, wall time, exit),
// a failing exit, time-limit enforcement through the runtime, and a container already running when
// the agent starts. Each suite supplies a driver that runs workloads on its runtime.
import { cpus } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../src/agent/agent.js';
import type { AgentConfig } from '../../src/config.js';
import type { Run } from '../../src/core/types.js';

export interface Workload {
  /** The organiser's labels (Docker: on the container; containerd: on the pod). */
  labels: Record<string, string>;
  /** Shell text; `$CPU_NS` expands to a command printing the container's own CPU counter (ns). */
  script: string;
}

export interface RuntimeDriver {
  name: string;
  /** An agent attached to this runtime only, selecting `label:flare.test=<tag>`. */
  startAgent(overrides?: Partial<AgentConfig>): Promise<{ agent: RunningAgent; stop(): Promise<void> }>;
  /** Runs to its end (or detached); the harness's wall time around it is an upper bound of the run's; its stdout. */
  run(w: Workload, detach?: boolean): Promise<{ id: string; harnessWallSeconds: number; stdout: string }>;
  /** Waits for a detached workload's end. */
  wait(id: string): Promise<void>;
  tag: string;
  cleanup(): Promise<void>;
}

/** Burns until its own counter reaches cpuS, then prints the counter as the container saw it (the truth). */
const burn = (cpuS: number): string => `yes >/dev/null & while [ $($CPU_NS) -lt ${cpuS * 1e9} ]; do sleep 0.02; done; kill $!; wait; echo CPU_NS=$($CPU_NS)`;

export async function finished(agent: RunningAgent, containerId: string, timeoutMs = 20_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = agent.store.listRuns({}, 1000).runs.find((r) => r.containerId === containerId);
    if (run && run.status !== 'running' && run.summary) return run;
    if (Date.now() > deadline) throw new Error(`no finished run for ${containerId} (${run?.status ?? 'never attached'})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function runtimeContract(available: boolean, makeDriver: () => Promise<RuntimeDriver>): void {
  describe.skipIf(!available)('runtime attachment contract', () => {
    let d: RuntimeDriver;
    let a: { agent: RunningAgent; stop(): Promise<void> };
    const labels = (team: string, kase: string, extra: Record<string, string> = {}): Record<string, string> => ({ 'flare.test': d.tag, 'flare.team': team, 'flare.case': kase, ...extra });
    beforeAll(async () => {
      d = await makeDriver();
      a = await d.startAgent({ enforceTimeLimit: true });
    }, 120_000);
    afterAll(async () => {
      await a?.stop();
      await d?.cleanup();
    }, 120_000);

    it('a 1-s CPU burner: organiser identity, cpuSeconds within 3 % of the container\'s own counter, the runtime\'s wall time, completed', async () => {
      const { id, harnessWallSeconds, stdout } = await d.run({ labels: labels('burners', 'one-core'), script: burn(1) });
      const truthSeconds = Number(/CPU_NS=(\d+)/.exec(stdout)?.[1]) / 1e9;
      const run = await finished(a.agent, id);
      const s = run.summary!;
      console.log(`${d.name} run`, JSON.stringify({ team: run.team, case: run.case, status: run.status, exitCode: s.exitCode, cpuSeconds: s.cpuSeconds, truthSeconds, wallSeconds: s.wallSeconds, harnessWallSeconds, aucCpuPctS: s.aucCpuPctS, flags: s.flags }));
      expect([run.team, run.case, run.status, s.exitCode]).toEqual(['burners', 'one-core', 'completed', 0]);
      expect(truthSeconds).toBeGreaterThanOrEqual(1);
      expect(s.cpuSeconds).not.toBeNull();
      expect(Math.abs(s.cpuSeconds! - truthSeconds)).toBeLessThanOrEqual(0.03 * truthSeconds);
      // The burner and its poller use at most every core; the runtime's start comes after the shell's own
      // start-up CPU (up to 0.2 s here); and the run lies within the harness's span.
      expect(s.wallSeconds).toBeGreaterThanOrEqual(truthSeconds / cpus().length - 0.2);
      expect(s.wallSeconds).toBeLessThanOrEqual(harnessWallSeconds);
      expect(s.flags).not.toContain('no-cgroup');
    });

    it('/healthz reports the runtime attached', () => {
      expect(a.agent.live.health().runtime.attached).toEqual([d.name]);
      expect(a.agent.live.health().sources[d.name as 'docker' | 'containerd'].up).toBe(true);
    });

    it('a non-zero exit is a failed run with its exit code', async () => {
      const { id } = await d.run({ labels: labels('failing', 'exit-3'), script: 'exit 3' });
      const run = await finished(a.agent, id);
      expect([run.status, run.summary!.exitCode, run.summary!.terminationReason]).toEqual(['failed', 3, 'exited']);
    });

    it('the time limit is enforced through the runtime: killed, timeout, wall just past the limit', async () => {
      const { id } = await d.run({ labels: labels('slow', 'sleeper', { 'flare.time_limit_s': '1' }), script: 'sleep 30' });
      const run = await finished(a.agent, id);
      const s = run.summary!;
      expect([run.status, s.terminationReason]).toEqual(['timeout', 'killed at time limit']);
      expect(s.wallSeconds).toBeGreaterThanOrEqual(1);
      expect(s.wallSeconds).toBeLessThan(5);
    });

    it('a container already running when the agent starts is attached late and measured to its end', async () => {
      await a.stop();
      const { id } = await d.run({ labels: labels('late', 'already-running'), script: 'sleep 2' }, true);
      a = await d.startAgent({ enforceTimeLimit: true });
      await d.wait(id);
      const run = await finished(a.agent, id);
      expect(run.status).toBe('completed');
      expect(run.summary!.flags).toContain('attached-late');
      expect(run.team).toBe('late');
    });
  });
}
