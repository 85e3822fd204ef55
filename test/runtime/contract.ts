// The assertions every runtime must pass, shared by the Docker and containerd suites, at two levels:
// - the adapter (src/runtime/adapter.ts) against the real daemon: start and exit events, the running
//   listing, inspect (the pid in the container's own cgroup, the organiser's labels, the start time),
//   kill, the end and the record after a gap, an unknown container;
// - the agent through the generic watcher: a CPU burner measured to its end (identity from the
//   organiser's labels, cpuSeconds, wall time, exit), a failing exit, time-limit enforcement through
//   the runtime, and a container already running when the agent starts.
// Each suite supplies a driver that runs workloads on its runtime and makes its adapter.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../src/daemon/agent.js';
import type { AgentConfig } from '../../src/agent/config.js';
import type { Run } from '../../src/core/types.js';
import type { LifecycleEvent, RuntimeAdapter } from '../../src/runtime/adapter.js';

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
  /** A new adapter on this runtime (the registry's, without an agent). */
  adapter(): RuntimeAdapter;
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

async function eventually<T>(what: string, find: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function runtimeContract(available: boolean, makeDriver: () => Promise<RuntimeDriver>): void {
  describe.skipIf(!available)('runtime adapter contract (the interface, real daemon)', () => {
    let d: RuntimeDriver;
    let adapter: RuntimeAdapter;
    let cancel: () => void = () => {};
    const events: LifecycleEvent[] = [];
    const downs: string[] = [];
    beforeAll(async () => {
      d = await makeDriver();
      adapter = d.adapter();
      cancel = await adapter.subscribe((e) => events.push(e), (reason) => downs.push(reason));
    }, 120_000);
    afterAll(async () => {
      cancel();
      adapter?.close();
      await d?.cleanup();
    }, 120_000);

    it('start event, listing and inspect; kill; exit event, end and the record after a gap', async () => {
      const { id } = await d.run({ labels: { 'flare.test': d.tag, 'flare.team': 'adapter', 'flare.case': 'inspect' }, script: 'sleep 30' }, true);
      const start = await eventually('start event', () => events.find((e): e is LifecycleEvent & { kind: 'start' } => e.kind === 'start' && e.containerId === id));
      expect((await adapter.listRunning()).map((c) => c.id)).toContain(id);
      const facts = (await adapter.inspect(id, { start }))!;
      expect([facts.id, facts.running, facts.neverRun]).toEqual([id, true, false]);
      // The pid is the container's init process: its own cgroup names the container.
      expect(facts.pid).toBeGreaterThan(0);
      expect(readFileSync(`/proc/${facts.pid}/cgroup`, 'utf8')).toContain(id);
      expect(facts.selection.labels['flare.test']).toBe(d.tag);
      // The runtime's start, within a second of its start event.
      expect(facts.startedAtNs).not.toBeNull();
      expect(Math.abs(Number(facts.startedAtNs! - (start.timeNs ?? 0n))) / 1e9).toBeLessThan(1);
      const who = await facts.identify({ node: 'node-x', timeLimitSeconds: 300, trustImageLabels: false, gpuDevices: [], migDevices: [] });
      expect([who.identity.runtime, who.identity.team, who.identity.case, who.identity.node, who.identity.containerId, who.timeLimitSeconds]).toEqual([d.name, 'adapter', 'inspect', 'node-x', id, 300]);

      await adapter.kill(id, 'SIGKILL');
      const exit = await eventually('exit event', () => events.find((e): e is LifecycleEvent & { kind: 'exit' } => e.kind === 'exit' && e.containerId === id));
      const end = await adapter.endOf(id, exit);
      expect(end.exitCode).toBe(137);
      expect(end.finishedAtNs).not.toBeNull();
      expect(end.finishedAtNs! >= facts.startedAtNs!).toBe(true);
      // Someone's signal is seen: as a kill event where the runtime has them, else in the exit status.
      if (adapter.traits.killEvents) expect(events.some((e) => e.kind === 'kill' && e.containerId === id)).toBe(true);
      else expect(end.bySignal).toBe(true);
      expect((await adapter.listRunning()).map((c) => c.id)).not.toContain(id);
      // After a gap in the stream, the runtime's record gives the same end.
      const gap = await adapter.afterGap(id, facts.startedAtNs!);
      expect('ended' in gap && [gap.ended.exitCode, gap.ended.finishedAtNs]).toEqual([137, end.finishedAtNs]);
      expect(downs).toEqual([]);
    });

    it('a container the runtime does not know: no facts, vanished after a gap', async () => {
      const unknown = 'f'.repeat(64);
      expect(await adapter.inspect(unknown, {})).toBeNull();
      expect(await adapter.afterGap(unknown, 0n)).toEqual({ gone: 'container-vanished' });
    });
  });

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
