// RunManager against a real SQLite store, with counters from a scripted reader (the cgroup files are
// covered by test/sources; here the run lifecycle is under test).
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CounterReader } from '../../src/agent/run-spec.js';
import { partialSummaryIntervalNs, RunManager } from '../../src/agent/runs.js';
import type { Summariser, SummaryJob } from '../../src/agent/summary-thread.js';
import { summariseRun } from '../../src/agent/verdict.js';
import { FLARE22_PENALTIES } from '../../src/core/types.js';
import { monoNowNs } from '../../src/clock/ticker.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';

/** Counters that grow by a fixed step per read, like a process using half a core at 10 Hz. */
class SteppingReader implements CounterReader {
  cpuSeconds = 0;
  read() {
    this.cpuSeconds += 0.05;
    return { cpuSeconds: this.cpuSeconds, ramMiB: 100 };
  }
  close(): void {}
}

let store: Store | null = null;
afterEach(() => store?.close());

function manager(partialSummaryEveryMs: number): RunManager {
  store = openStore(join(tempDir(), 'runs.db'));
  return new RunManager(store, { node: 'n', nCpu: 2, intervalMs: 100, gpuToleranceMiB: 2048, penalties: FLARE22_PENALTIES, partialSummaryEveryMs });
}

function startRun(m: RunManager, team: string) {
  return m.start({ identity: { kind: 'profile', team, case: 'c', node: 'n' }, reader: new SteppingReader(), gpuKey: null, startedWallMs: Date.now(), startedMonoNs: monoNowNs(), timeLimitSeconds: null });
}

describe('RunManager', () => {
  it('refreshes at most one partial summary per call (its own timer, not the tick), from the run’s accumulator', async () => {
    const m = manager(0);
    const runs = ['a', 'b', 'c'].map((t) => startRun(m, t));
    const withSummary = (): number => {
      store!.flush(); // readers see committed rows
      return runs.filter((r) => store!.getRun(r.id)?.summary).length;
    };
    for (let i = 0; i < 30; i++) m.sampleAll(null, new Map(), Date.now());
    expect(withSummary()).toBe(0); // a tick writes no summary
    await new Promise((r) => setTimeout(r, 5));
    m.refreshOnePartialSummary();
    expect(withSummary()).toBe(1); // made here and now, not on the summariser
    m.refreshOnePartialSummary();
    m.refreshOnePartialSummary();
    expect(withSummary()).toBe(3);
    for (const run of runs) {
      const s = store!.getRun(run.id)!.summary!;
      expect(s.status).toBe('running');
      // To the bit what the one summarise path makes of the same samples (the accumulator's own test has random traces).
      const samples = [...m.samplesOf(run.id)!];
      expect(s).toEqual(summariseRun(m.activeRuns().find((r) => r.id === run.id)!, samples, [], { status: 'running', terminationReason: null, exitCode: null, endedMonoNs: null, flags: [], facts: {} }));
      expect(s.sampleCount).toBe(30);
    }
  });

  it('summarises a run past its limit from its whole trace on the summariser, one at a time, spaced by its trace', async () => {
    store = openStore(join(tempDir(), 'runs.db'));
    const jobs: SummaryJob[] = [];
    const release: (() => void)[] = [];
    const counting: Summariser = {
      where: 'test',
      summarise: (job) => {
        jobs.push(job);
        const s = store!;
        return new Promise((resolve) => release.push(() => resolve(summariseRun(job.run, [...job.samples], s.getNodeSamples(0, 0), job.verdict))));
      },
      close: async () => {},
    };
    const m = new RunManager(store, { node: 'n', nCpu: 2, intervalMs: 100, gpuToleranceMiB: 2048, penalties: FLARE22_PENALTIES, partialSummaryEveryMs: 0 }, undefined, undefined, null, counting);
    // A limit without enforcement: the run goes on past it, and its figures are cut at the limit.
    const past = m.start({ identity: { kind: 'profile', team: 'p', case: 'c', node: 'n' }, reader: new SteppingReader(), gpuKey: null, startedWallMs: Date.now(), startedMonoNs: monoNowNs(), timeLimitSeconds: 0.001 });
    const within = startRun(m, 'w');
    await new Promise((r) => setTimeout(r, 5));
    m.sampleAll(null, new Map(), Date.now());
    m.refreshOnePartialSummary(); // the most overdue first: `past` was started first
    expect(jobs.map((j) => j.run.id)).toEqual([past.id]);
    m.refreshOnePartialSummary(); // one from the whole trace in flight: nothing else meanwhile
    expect(jobs).toHaveLength(1);
    release.shift()!();
    await new Promise((r) => setImmediate(r));
    store.flush();
    expect(store.getRun(past.id)!.summary!.flags).toContain('cut-at-time-limit');
    m.refreshOnePartialSummary(); // `within` from its accumulator; `past` waits a whole-trace interval
    expect(jobs).toHaveLength(1);
    store.flush();
    expect(store.getRun(within.id)!.summary).not.toBeNull();
  });

  it("spaces a run's partial summaries by its trace, so their cost per second stays flat however long it runs", () => {
    expect(partialSummaryIntervalNs(30_000, 0)).toBe(30e9);
    expect(partialSummaryIntervalNs(30_000, 6000)).toBe(30e9); // 10 min at 10 Hz: still the base
    expect(partialSummaryIntervalNs(30_000, 36_000)).toBe(180e9); // an hour at 10 Hz: every 3 min
    // ~1 µs of summary per sample: the summary work per second of a run tends to 200 samples' worth.
    for (const samples of [36_000, 360_000]) expect((samples * 1e3) / partialSummaryIntervalNs(30_000, samples)).toBeCloseTo(0.0002, 6);
  });

  it('enforces the time limit once, from its own deadline, after a last counter read', async () => {
    const m = manager(60_000);
    const calls: { samplesBefore: number; elapsedSeconds: number }[] = [];
    const startedMonoNs = monoNowNs();
    const run = m.start({
      identity: { kind: 'profile', team: 't', case: 'c', node: 'n' },
      reader: new SteppingReader(),
      gpuKey: null,
      startedWallMs: Date.now(),
      startedMonoNs,
      timeLimitSeconds: 0.15,
      enforce: () => calls.push({ samplesBefore: m.samplesOf(run.id)!.length, elapsedSeconds: (monoNowNs() - startedMonoNs) / 1e9 }),
    });
    // Ticks before, across and after the deadline never enforce anything themselves.
    for (let i = 0; i < 8; i++) {
      m.sampleAll(null, new Map(), Date.now());
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(calls).toHaveLength(1);
    expect(calls[0].elapsedSeconds).toBeGreaterThan(0.15);
    expect(m.limitEnforced(run.id)).toBe(true);
    // The last read before enforcement is a sample of its own, past the limit.
    const samples = m.samplesOf(run.id)!;
    const read = samples[calls[0].samplesBefore - 1];
    expect((read.monoNs - startedMonoNs) / 1e9).toBeGreaterThan(0.15);
    await m.finish(run.id, { status: 'failed', terminationReason: 'killed at time limit', exitCode: 137, endedWallMs: Date.now(), endedMonoNs: monoNowNs() });
    expect(calls).toHaveLength(1);
  });

  it('closes a run with the final counter read and the stored trace', async () => {
    const m = manager(60_000);
    const run = startRun(m, 'a');
    for (let i = 0; i < 5; i++) m.sampleAll(null, new Map(), Date.now());
    const done = (await m.finish(run.id, { status: 'completed', terminationReason: 'exited', exitCode: 0, endedWallMs: Date.now(), endedMonoNs: monoNowNs() }))!;
    // Five ticks read 0.05 … 0.25, the final read 0.30: exact at the end, not the last tick's value.
    expect(done.summary!.cpuSeconds).toBeCloseTo(0.3, 9);
    expect(done.summary!.flags).toContain('final-counter-read');
    expect(done.summary!.aucGpuMiBs).toBeNull(); // no GPU source: unknown, not 0
    expect(store!.getRunSamples(run.id)).toHaveLength(5);
    expect(store!.getRun(run.id)!.status).toBe('completed');
    expect(m.has(run.id)).toBe(false);
  });

  it('a fact seen after a run ended (its removal) lands on its summary, whether or not that was written yet', async () => {
    const m = manager(60_000);
    const a = startRun(m, 'a');
    const b = startRun(m, 'b');
    m.sampleAll(null, new Map(), Date.now());
    const end = () => ({ status: 'completed' as const, terminationReason: 'exited' as const, exitCode: 0, endedWallMs: Date.now(), endedMonoNs: monoNowNs() });
    const pending = m.finish(a.id, end());
    m.noteRemoved(a.id, 0.012); // its summary is still being computed
    expect((await pending)!.summary!.removedAfterEndSeconds).toBe(0.012);
    await m.finish(b.id, end());
    const flagsBefore = store!.getRun(b.id)!.summary!.flags;
    m.noteRemoved(b.id, 0.02); // already stored
    m.noteRemoved('no-such-run', 1); // unknown: nothing happens
    expect(store!.getRun(a.id)!.summary!.removedAfterEndSeconds).toBe(0.012);
    expect(store!.getRun(b.id)!.summary!.removedAfterEndSeconds).toBe(0.02);
    // A fact, not a flag: the flags are as they were, and nothing needs to parse them.
    expect(store!.getRun(b.id)!.summary!.flags).toEqual(flagsBefore);
    expect(store!.getRun(b.id)!.status).toBe('completed');
  });

  it('a container given GPUs 1 and 3 gets the device-level figure of exactly those', async () => {
    const m = manager(60_000);
    const placement = { slot: null, cpusetCpus: null, cpusetMems: null, numaNode: null, memoryLimitMiB: null, shmSizeMiB: null, gpuIndices: [1, 3] };
    const run = m.start({ identity: { kind: 'container', team: 't', case: 'c', node: 'n', gpuDevices: ['1', '3'], placement }, reader: new SteppingReader(), gpuKey: null, startedWallMs: Date.now(), startedMonoNs: monoNowNs(), timeLimitSeconds: null });
    m.sampleAll(null, new Map([[0, 100], [1, 200], [2, 400], [3, 800]]), Date.now());
    expect(m.samplesOf(run.id)!.at(-1)!.gpuDeviceMiB).toBe(1000); // GPU 1 + GPU 3, not the node's 1500
    m.sampleAll(null, new Map([[0, 100], [1, 200], [2, 400], [3, null]]), Date.now());
    expect(m.samplesOf(run.id)!.at(-1)!.gpuDeviceMiB).toBeNull(); // one of its GPUs unreadable: unknown
    await m.finish(run.id, { status: 'completed', terminationReason: 'exited', exitCode: 0, endedWallMs: Date.now(), endedMonoNs: monoNowNs() });
  });
});
