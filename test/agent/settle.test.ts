// Recovery asks the runtime that made a run how it ended: settleByRuntime routes each run to its
// runtime's settler (rows older than schema 8 record none and go to Docker), and containerd's task
// record settles a run whose task stopped after it started.
import { describe, expect, it } from 'vitest';
import { settleByRuntime, SETTLED_FLAG, type Settler } from '../../src/agent/recover.js';
import { containerdSettler, settleFromTask } from '../../src/runtime/containerd/settle.js';
import { TASK_RUNNING } from '../../src/runtime/containerd/proto.js';
import type { Run } from '../../src/core/types.js';
import { makeRun } from '../store/fixtures.js';
import { EVENT_LOG_FLAG, settleFromEventLog } from '../../src/runtime/docker/settle.js';

const STOPPED = 3;
const run = (over: Partial<Run> = {}): Run => makeRun('left', { status: 'running', summary: null, endedWallMs: null, endedMonoNs: null, containerId: 'c1', startedWallMs: 1_700_000_000_000, startedMonoNs: 5_000_000_000, ...over });

describe('settleByRuntime', () => {
  it('asks the runtime that made the run; a row without one goes to Docker; an unattached runtime is not asked', async () => {
    const asked: string[] = [];
    const fake = (name: string): Settler => async (r) => {
      asked.push(`${name}:${r.id}`);
      return null;
    };
    const settle = settleByRuntime({ docker: fake('docker'), containerd: fake('containerd') });
    await settle(run({ id: 'a', runtime: 'containerd' }));
    await settle(run({ id: 'b', runtime: 'docker' }));
    await settle(run({ id: 'c' }));
    expect(asked).toEqual(['containerd:a', 'docker:b', 'docker:c']);
    expect(await settleByRuntime({ docker: fake('docker') })(run({ id: 'd', runtime: 'containerd' }))).toBeNull();
    expect(asked).toHaveLength(3);
  });
});

describe('settleFromTask (containerd)', () => {
  it('a task that exited after the run started: its exit status and time, flagged; running or older: not this run', () => {
    const r = run();
    const exitedAtNs = BigInt(r.startedWallMs) * 1_000_000n + 2_500_000_000n;
    const s = settleFromTask(r, { containerId: 'c1', pid: 0, status: STOPPED, exitStatus: 3, exitedAtNs });
    expect(s).toMatchObject({ status: 'failed', exitCode: 3, endedMonoNs: r.startedMonoNs + 2.5e9, endedWallMs: r.startedWallMs + 2500, wallSecondsOverride: 2.5, flags: [SETTLED_FLAG] });
    expect(settleFromTask(r, { containerId: 'c1', pid: 0, status: STOPPED, exitStatus: 0, exitedAtNs })?.status).toBe('completed');
    expect(settleFromTask(r, { containerId: 'c1', pid: 9, status: TASK_RUNNING, exitStatus: 0, exitedAtNs: null })).toBeNull();
    expect(settleFromTask(r, { containerId: 'c1', pid: 0, status: STOPPED, exitStatus: 0, exitedAtNs: BigInt(r.startedWallMs - 1000) * 1_000_000n })).toBeNull();
  });

  it('a task containerd no longer has, or a containerd that does not answer: not settled', async () => {
    expect(await containerdSettler({ getTask: async () => null })(run())).toBeNull();
    expect(await containerdSettler({ getTask: async () => Promise.reject(new Error('unavailable')) })(run())).toBeNull();
    expect(await containerdSettler({ getTask: async () => null })(run({ containerId: undefined }))).toBeNull();
  });
});

describe('settleFromEventLog (Docker, a --rm container already removed)', () => {
  const c = 'c'.repeat(64);
  const at = (r: Run, ms: number): bigint => BigInt(r.startedWallMs + ms) * 1_000_000n;
  it('the first die after the start: its exit code and time; an oom just after it, or a kill before it, names the reason', () => {
    const r = run({ containerId: c });
    const die = (ms: number, exitCode: number) => ({ kind: 'exit' as const, containerId: c, timeNs: at(r, ms), exitCode, exitedAtNs: null });
    const plain = settleFromEventLog(r, [die(-5000, 1), die(2500, 0)]); // a die of an earlier life is not this run's
    expect(plain).toMatchObject({ status: 'completed', exitCode: 0, terminationReason: 'exited', endedWallMs: r.startedWallMs + 2500, endedMonoNs: r.startedMonoNs + 2.5e9, wallSecondsOverride: 2.5 });
    expect(plain!.flags).toEqual([SETTLED_FLAG, EVENT_LOG_FLAG]);
    expect(plain!.facts).toBeUndefined();
    const oom = settleFromEventLog(r, [die(1000, 137), { kind: 'oom', containerId: c }]);
    expect([oom!.status, oom!.flags, oom!.facts]).toEqual(['oom', [SETTLED_FLAG, EVENT_LOG_FLAG], { oomNamedBy: 'runtime-event-log' }]);
    expect(settleFromEventLog(r, [{ kind: 'kill', containerId: c }, die(1000, 137)])?.terminationReason).toBe('killed externally');
    expect(settleFromEventLog(r, [{ kind: 'oom', containerId: c }])).toBeNull();
  });
});
