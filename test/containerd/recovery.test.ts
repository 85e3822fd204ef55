// Recovery through the runtime that made the run, against a real standalone containerd and the agent as
// a child process (the built CLI): the agent is killed with -9 while a pod's workload runs; the task
// exits while no agent runs; the next agent settles the run from containerd's own task record (its exit
// status and time), not from Docker, which knows nothing of it.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.js';
import { openStoreReadOnly } from '../../src/store/index.js';
import { requireServices, sleep, tempDir } from '../helpers.js';
import { startAgentChild, type AgentChild } from '../faults/helpers.js';
import { containerdInstalled, makePod, runWorkload, startContainerd, NAMESPACE, type Containerd, type Pod } from './helpers.js';

const available = containerdInstalled();
if (!available && requireServices()) throw new Error('containerd (apt: containerd), ctr, root and the flare-test/busybox image are required (FLARE_TEST_REQUIRE_SERVICES)');
const tag = Math.random().toString(16).slice(2, 10);

let c: Containerd | null = null;
const pods: Pod[] = [];
const children: AgentChild[] = [];
afterAll(async () => {
  for (const a of children) await a.stop('SIGKILL');
  for (const p of pods) p.remove();
  await c?.stop();
}, 120_000);

async function runs(agent: AgentChild): Promise<Run[]> {
  return ((await (await fetch(`http://127.0.0.1:${agent.port}/api/v1/runs`)).json()) as { runs: Run[] }).runs;
}

/**
 * An agent (the built CLI) on its own database, a pod's workload `cmd` attached to it, then the agent
 * killed with -9: what the next agent must settle. Returns the agent's arguments, its database, the pod and the left run.
 */
async function leftByKilledAgent(kase: string, cmd: string): Promise<{ args: string[]; db: string; pod: Pod; left: Run }> {
  c ??= await startContainerd();
  const db = join(tempDir('flare-ctd-recovery-'), 'agent.db');
  const args = ['--db', db, '--runtime', 'containerd', '--containerd-address', c.address, '--containerd-namespace', NAMESPACE, '--select', `label:flare.test=${tag}`, '--interval-ms', '100'];
  const first = await startAgentChild(args);
  children.push(first);
  const spec = { podLabels: { 'flare.test': tag, 'flare.team': 'gamma', 'flare.case': kase }, cmd };
  const pod = makePod(c, spec);
  pods.push(pod);
  await runWorkload(c, pod, spec, true);
  let left: Run | undefined;
  for (let i = 0; i < 100 && !left; i++) {
    left = (await runs(first)).find((r) => r.containerId === pod.containerId);
    if (!left) await sleep(50);
  }
  expect(left?.status).toBe('running');
  expect(await first.stop('SIGKILL')).toBeNull();
  return { args, db, pod, left: left! };
}

describe.skipIf(!available)('a containerd run left running by a killed agent', () => {
  it('is settled from containerd\'s task record at the next start: exit status, containerd\'s exit time, flagged', async () => {
    const { args, db, pod, left: attached } = await leftByKilledAgent('left-running', 'sleep 2; exit 3');
    // The task ends while no agent watches.
    for (let i = 0; i < 100 && !/STOPPED/.test(c!.ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(pod.containerId)) ?? ''); i++) await sleep(100);

    const next = await startAgentChild(args);
    children.push(next);
    expect(next.out()).toContain('settled from its runtime');
    await next.stop('SIGTERM');
    const store = openStoreReadOnly(db);
    const run = store.getRun(attached.id)!;
    store.close();
    const s = run.summary!;
    console.log('settled from containerd', { status: run.status, exitCode: s.exitCode, wallSeconds: s.wallSeconds, flags: s.flags });
    expect(run.runtime).toBe('containerd');
    expect([run.team, run.case, run.status, s.exitCode]).toEqual(['gamma', 'left-running', 'failed', 3]);
    expect(s.flags).toContain('settled-from-runtime-after-agent-stop');
    expect(s.flags).not.toContain('recovered-after-agent-stop');
    // containerd's exit time: the workload slept 2 s after its start event.
    expect(s.wallSeconds).toBeGreaterThan(1.9);
    expect(s.wallSeconds).toBeLessThan(4);
  }, 120_000);

  it('still running at the next start: interrupted, and the new run of the same container links it (previousRunId)', async () => {
    const { args, pod, left: before } = await leftByKilledAgent('relinked', 'sleep 6');
    const next = await startAgentChild(args);
    children.push(next);
    let after: Run | undefined;
    for (let i = 0; i < 100 && !after; i++) {
      after = (await runs(next)).find((r) => r.containerId === pod.containerId && r.id !== before.id);
      if (!after) await sleep(50);
    }
    const old = (await runs(next)).find((r) => r.id === before.id)!;
    expect(old.status).toBe('interrupted');
    expect(after?.previousRunId).toBe(before.id);
    await next.stop('SIGTERM');
  }, 120_000);
});
