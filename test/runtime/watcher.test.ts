// The generic watcher through the runtime interface (test/runtime/fake-runtime.ts: real processes,
// faults on demand): a limit that fell due while no agent ran is enforced at the attach; a kill the
// runtime refuses is sent again until the container is gone, and at once through its cgroup (also when
// the runtime never answers); an OOM event that comes after the exit
// still names the OOM kill; the kernel's OOM-kill count names one no event reported.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KILL_ANSWER_MS } from '../../src/runtime/enforce.js';
import { detectCgroupMounts } from '../../src/cgroup/mounts.js';
import { OomKillCount } from '../../src/cgroup/oom-count.js';
import { oomCountUnreadAtEnd, readOomCountAtEnd } from '../../src/runtime/oom.js';
import { newTracked } from '../../src/runtime/tracked.js';
import { tempDir } from '../helpers.js';
import { FakeRuntime, finishedRun, startFakeAgent, type FakeAgent } from './fake-runtime.js';

/** Where the fake runtime makes a container's cgroup when a test needs one (hybrid or pure v2 hosts). */
const V2_MOUNT = detectCgroupMounts().v2 ?? 'no cgroup v2 mount on this host';

/** Starts a container, lets it run 300 ms, then signals its process (as the kernel or someone else would). */
async function runThenSignal(fake: FakeRuntime, id: string, signal: NodeJS.Signals): Promise<void> {
  fake.start(id);
  await new Promise((r) => setTimeout(r, 300));
  fake.containers.get(id)!.child.kill(signal);
}

describe('generic watcher (fake runtime)', () => {
  let a: FakeAgent | null = null;
  let fake: FakeRuntime;
  afterEach(async () => {
    await a?.stop();
    a = null;
  });

  it('a container whose limit passed while no agent ran is killed at the attach: timeout, killed at time limit', async () => {
    fake = new FakeRuntime();
    fake.start('past-due', { timeLimitSeconds: 1, startedAgoMs: 2500 });
    const t0 = Date.now();
    a = await startFakeAgent(fake, { enforceTimeLimit: true, killGraceSeconds: 0 });
    const run = await finishedRun(a.agent, 'past-due');
    expect([run.status, run.summary!.terminationReason, run.summary!.exitCode]).toEqual(['timeout', 'killed at time limit', 137]);
    expect(run.summary!.flags).toContain('attached-late');
    expect(fake.kills).toEqual([{ id: 'past-due', signal: 'SIGKILL', ok: true }]);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a kill the runtime refuses is sent again until the container is gone', async () => {
    fake = new FakeRuntime();
    a = await startFakeAgent(fake, { enforceTimeLimit: true, killGraceSeconds: 0 });
    fake.failKills = 2;
    fake.start('refused', { timeLimitSeconds: 0.5 });
    const run = await finishedRun(a.agent, 'refused');
    expect([run.status, run.summary!.terminationReason]).toEqual(['timeout', 'killed at time limit']);
    expect(fake.kills.map((k) => k.ok)).toEqual([false, false, true]);
    // 0.5 s limit, then retries after 0.5 s and 1 s.
    expect(run.summary!.wallSeconds).toBeGreaterThanOrEqual(2);
    expect(run.summary!.wallSeconds).toBeLessThan(4);
  });

  it('a SIGKILL the runtime refuses is sent through the container\'s cgroup at once: killed at its deadline', async () => {
    fake = new FakeRuntime();
    a = await startFakeAgent(fake, { enforceTimeLimit: true, killGraceSeconds: 0 });
    fake.failKills = 100; // the runtime stays away
    fake.start('refused-cg', { timeLimitSeconds: 0.5, cgroupUnder: V2_MOUNT });
    const run = await finishedRun(a.agent, 'refused-cg');
    expect([run.status, run.summary!.terminationReason, run.summary!.exitCode]).toEqual(['timeout', 'killed at time limit', 137]);
    expect(run.summary!.flags.filter((f) => f === 'killed-through-cgroup')).toHaveLength(1);
    expect(run.summary!.killedThroughCgroup).toMatch(/^cgroup\.(kill|procs)$/);
    expect(fake.kills[0]).toEqual({ id: 'refused-cg', signal: 'SIGKILL', ok: false });
    expect(run.summary!.wallSeconds).toBeGreaterThanOrEqual(0.5);
    expect(run.summary!.wallSeconds).toBeLessThan(0.9);
  });

  it(`a kill the runtime never answers (a hung daemon) counts as refused after ${KILL_ANSWER_MS} ms: killed through the cgroup`, async () => {
    fake = new FakeRuntime();
    a = await startFakeAgent(fake, { enforceTimeLimit: true, killGraceSeconds: 0 });
    fake.hangKills = 100;
    fake.start('hung', { timeLimitSeconds: 0.5, cgroupUnder: V2_MOUNT });
    const run = await finishedRun(a.agent, 'hung');
    expect([run.status, run.summary!.exitCode]).toEqual(['timeout', 137]);
    expect(run.summary!.flags).toContain('killed-through-cgroup');
    expect(run.summary!.wallSeconds).toBeGreaterThanOrEqual(0.5 + KILL_ANSWER_MS / 1000);
    expect(run.summary!.wallSeconds).toBeLessThan(0.5 + KILL_ANSWER_MS / 1000 + 0.6);
  });

  it('a hung daemon: one kill request waits unanswered, the cgroup kill ends the container, no request piles up; the verdict comes when it answers', async () => {
    fake = new FakeRuntime();
    a = await startFakeAgent(fake, { enforceTimeLimit: true, killGraceSeconds: 0 });
    fake.start('hung-daemon', { timeLimitSeconds: 0.5, cgroupUnder: V2_MOUNT });
    await new Promise((r) => setTimeout(r, 200));
    fake.hang();
    const child = fake.containers.get('hung-daemon')!.child;
    const diedAtMs = await new Promise<number>((r) => child.once('exit', () => r(Date.now())));
    // Retries fall due at 0.5, 1.5 and 3.5 s after the first failure: none sends while one waits unanswered.
    await new Promise((r) => setTimeout(r, 4000));
    expect(fake.kills).toEqual([{ id: 'hung-daemon', signal: 'SIGKILL', ok: false }]);
    expect(a.agent.live.health().sources.docker.up).toBe(true); // the stream itself never failed
    fake.resume();
    const run = await finishedRun(a.agent, 'hung-daemon');
    expect([run.status, run.summary!.exitCode]).toEqual(['timeout', 137]);
    expect(run.summary!.flags).toContain('killed-through-cgroup');
    // The end is the runtime's record of it (the process's death), not the daemon's return.
    expect(run.endedWallMs! - diedAtMs).toBeLessThan(50);
  });

  it('an OOM event that comes after the exit (Docker on cgroup v1 under load) still makes the run oom', async () => {
    fake = new FakeRuntime();
    fake.oomEventAfterExitMs = 150;
    a = await startFakeAgent(fake);
    await runThenSignal(fake, 'late-oom', 'SIGKILL');
    const run = await finishedRun(a.agent, 'late-oom');
    expect([run.status, run.summary!.terminationReason, run.summary!.exitCode]).toEqual(['oom', 'oom', 137]);
    expect(run.summary!.oomNamedBy).toBe('runtime-event');
  });

  it('an OOM event later than the grace: the run reads failed, then oom once the runtime\'s record is asked again', async () => {
    fake = new FakeRuntime();
    fake.oomEventAfterExitMs = 1500;
    a = await startFakeAgent(fake);
    await runThenSignal(fake, 'later-oom', 'SIGKILL');
    const first = await finishedRun(a.agent, 'later-oom');
    expect([first.status, first.summary!.exitCode]).toEqual(['failed', 137]);
    for (let i = 0; a.agent.store.getRun(first.id)!.status !== 'oom'; i++) {
      if (i > 400) throw new Error('never named oom');
      await new Promise((r) => setTimeout(r, 20));
    }
    const run = a.agent.store.getRun(first.id)!;
    expect([run.summary!.terminationReason, run.summary!.exitCode, run.summary!.wallSeconds]).toEqual(['oom', 137, first.summary!.wallSeconds]);
    expect(run.summary!.oomNamedBy).toBe('runtime-event-log');
  }, 15_000);

  it('a SIGKILL nobody names is not an OOM: killed externally is not claimed, the exit stands', async () => {
    fake = new FakeRuntime();
    a = await startFakeAgent(fake);
    await runThenSignal(fake, 'plain-kill', 'SIGKILL');
    const run = await finishedRun(a.agent, 'plain-kill');
    expect([run.status, run.summary!.exitCode]).toEqual(['failed', 137]);
    expect(run.summary!.oomNamedBy).toBeUndefined();
  });

  it('an end the runtime could not confirm (event time) is corrected from its record after the reconnect', async () => {
    fake = new FakeRuntime();
    fake.recordUnreadableAtExitMs = 40;
    a = await startFakeAgent(fake);
    await runThenSignal(fake, 'unconfirmed', 'SIGTERM');
    const provisional = await finishedRun(a.agent, 'unconfirmed');
    const c = fake.containers.get('unconfirmed')!;
    const trueWallSeconds = Number(c.exited!.atNs - c.startedAtNs) / 1e9;
    expect(provisional.summary!.flags).toContain('finished-at-from-event');
    expect(provisional.summary!.wallSeconds - trueWallSeconds).toBeCloseTo(0.04, 6);
    fake.recordUnreadableAtExitMs = null;
    fake.dropStream();
    for (let i = 0; a.agent.store.getRun(provisional.id)!.summary!.flags.every((f) => !f.startsWith('end-corrected')); i++) {
      if (i > 200) throw new Error('never corrected');
      await new Promise((r) => setTimeout(r, 20));
    }
    const corrected = a.agent.store.getRun(provisional.id)!;
    expect(corrected.summary!.wallSeconds).toBeCloseTo(trueWallSeconds, 6);
    expect([corrected.status, corrected.summary!.exitCode]).toEqual([provisional.status, provisional.summary!.exitCode]);
    expect(corrected.summary!.flags).toContain('end-corrected-from-runtime-record');
    expect(corrected.summary!.flags).not.toContain('finished-at-from-event');
  });
});

describe('the kernel OOM-kill count (v1 memory.oom_control, v2 memory.events)', () => {
  it('counts the kills of the container\'s life; unknown (null) when never readable, never 0', () => {
    for (const [version, file, text] of [
      [1, 'memory.oom_control', (n: number) => `oom_kill_disable 0\nunder_oom 0\noom_kill ${n}\n`],
      [2, 'memory.events', (n: number) => `low 0\nhigh 0\nmax 7\noom 3\noom_kill ${n}\noom_group_kill 0\n`],
    ] as const) {
      const dir = join(tempDir('flare-oom-'), 'cg');
      mkdirSync(dir);
      writeFileSync(join(dir, file), text(2));
      const count = new OomKillCount({ version, dir });
      expect(count.kills()).toBe(2);
      writeFileSync(join(dir, file), text(3));
      expect(count.read()).toBe(3);
      expect(count.kills()).toBe(3);
      count.close();
      const missing = new OomKillCount({ version, dir: join(dir, 'gone') });
      expect(missing.kills()).toBeNull();
    }
  });

  it('the count is final only when read at the end: a cgroup removed first leaves the exit 137 flagged oom-count-unread-at-end', () => {
    const dir = tempDir('flare-oomend-');
    writeFileSync(join(dir, 'memory.events'), 'oom 0\noom_kill 0\n');
    const read = newTracked('read', 'r1', 0n, 0, true);
    read.oomCount = new OomKillCount({ version: 2, dir });
    readOomCountAtEnd(read); // the cgroup still exists at the end
    expect(oomCountUnreadAtEnd(read)).toBe(false);
    const late = newTracked('late', 'r2', 0n, 0, true);
    late.oomCount = new OomKillCount({ version: 2, dir }); // read at the attach: 0
    // The runtime removed the cgroup before the end's read: kernfs then fails the read of the open file
    // (ENODEV); a plain file stays readable once deleted, so here it is emptied (no oom_kill to read).
    writeFileSync(join(dir, 'memory.events'), '');
    readOomCountAtEnd(late);
    expect(late.oomCount.kills()).toBe(0); // what the attach saw, not a final count
    expect(oomCountUnreadAtEnd(late)).toBe(true);
    expect(oomCountUnreadAtEnd(newTracked('none', 'r3', 0n, 0, true))).toBe(false); // no memory cgroup: exited-before-attach says it
  });
});
