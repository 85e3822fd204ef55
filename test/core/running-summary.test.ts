// A running run's accumulator against summarizeRun over the same samples: the same summary to the bit,
// however the trace is cut into folds, on traces with gaps, non-finite readings, counter resets, equal
// and negative times, and GPU memory across the tolerance.
import { describe, expect, it } from 'vitest';
import { RunningSummary } from '../../src/core/running-summary.js';
import { seededRandom } from '../../src/scoring/bootstrap.js';
import { summarizeRun, type SummaryInput, type SummaryVerdictInput } from '../../src/core/summary.js';
import type { RunGpuReadings } from '../../src/core/gpu-run.js';
import type { RunSample } from '../../src/core/types.js';
import { input, START_NS } from './fixtures.js';

/** Seeded, so a failure names the trace that made it. */
const prng = seededRandom;

/** A value, or now and then an unknown one: null, NaN or an infinity. */
function maybe(r: () => number, value: number, gapShare: number): number | null {
  const x = r();
  if (x >= gapShare) return value;
  return [null, NaN, Infinity, -Infinity][Math.floor((x / gapShare) * 4)];
}

function trace(seed: number, n: number): RunSample[] {
  const r = prng(seed);
  const out: RunSample[] = [];
  let monoNs = START_NS - Math.floor(r() * 3e8); // the first tick may come before the run's start
  let cpu = 0;
  let ram = 200 + r() * 100;
  let dev = Math.round(r() * 4000);
  for (let i = 0; i < n; i++) {
    monoNs += r() < 0.05 ? 0 : Math.floor(0.09e9 + r() * 0.03e9); // now and then two reads at one time
    cpu = r() < 0.02 ? r() * 0.5 : cpu + r() * 0.2; // a reset now and then (the cgroup made again)
    ram = Math.max(0, ram + (r() - 0.5) * 50);
    dev = r() < 0.1 ? Math.round(r() * 5000) : dev; // whole MiB, across the 2048-MiB tolerance, often repeated
    out.push({
      monoNs,
      wallMs: 1_700_000_000_000 + i * 100,
      cpuSeconds: maybe(r, cpu, 0.05),
      ramMiB: maybe(r, ram, 0.05),
      gpuMiB: maybe(r, Math.max(0, dev - 500), 0.05),
      gpuDeviceMiB: maybe(r, dev, 0.05),
    });
  }
  return out;
}

const gpuReadings: RunGpuReadings = {
  accountingMode: 'on',
  processes: [{ pid: 7, gpuIndex: 0, peakMiB: 4100, gpuTimeSeconds: 3, gpuUtilPct: 50, record: 'ok' }],
  unseenAccountedProcesses: 0,
  energy: { energyJ: 120, method: 'counter', coveredSeconds: 10 },
  sharedDuringRun: false,
  sharedAtStart: null,
};

/** A running run's verdict, with the flags, facts and GPU readings the assembly must carry through. */
function running(over: Partial<SummaryInput> = {}): SummaryInput {
  return input({ endSeconds: null, status: 'running', terminationReason: null, exitCode: null, flags: ['attached-late'], facts: { attachedLateSeconds: 0.4 }, gpu: gpuReadings, ...over });
}

function verdictOf(i: SummaryInput): SummaryVerdictInput {
  const { samples: _s, nodeSamples: _n, startedMonoNs: _b, endedMonoNs: _e, wallSecondsOverride: _w, finalCpu: _f, ...verdict } = i;
  return verdict;
}

/** Every number by its shortest exact text (−0 said apart), so two summaries compare to the bit. */
const bits = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : v));

function accumulator(i: SummaryInput): RunningSummary {
  return new RunningSummary({ startedMonoNs: i.startedMonoNs, intervalMs: i.intervalMs, timeLimitSeconds: i.timeLimitSeconds, gpuToleranceMiB: i.gpuToleranceMiB });
}

describe('RunningSummary', () => {
  it('gives summarizeRun’s summary of the samples so far, to the bit, at every fold of 60 random traces', () => {
    let compared = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const samples = trace(seed, 50 + seed * 7);
      const base = running({ nCpu: 1 + (seed % 8), gpuToleranceMiB: seed % 5 === 0 ? 0 : 2048 });
      const acc = accumulator(base);
      const r = prng(seed * 31);
      let upTo = 0;
      // The first summary may come before any sample.
      expect(bits(acc.summary(verdictOf(base)))).toBe(bits(summarizeRun({ ...base, samples: [] })));
      while (upTo < samples.length) {
        upTo = Math.min(samples.length, upTo + 1 + Math.floor(r() * 40));
        const soFar = samples.slice(0, upTo);
        acc.addFrom(soFar);
        expect(acc.folded).toBe(upTo);
        const want = summarizeRun({ ...base, samples: soFar });
        expect(bits(acc.summary(verdictOf(base))), `seed ${seed}, ${upTo} samples`).toBe(bits(want));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('carries the trace’s edge cases as summarizeRun does: a reset, a gap, an equal time, a start before the run', () => {
    const samples = trace(7, 400);
    const base = running();
    const want = summarizeRun({ ...base, samples });
    const acc = accumulator(base);
    acc.addFrom(samples);
    const got = acc.summary(verdictOf(base))!;
    expect(bits(got)).toBe(bits(want));
    // The trace made the cases this test is about (not a vacuous comparison).
    expect(got.flags).toEqual(expect.arrayContaining(['attached-late', 'cpu-counter-reset', 'cpu-unavailable', 'ram-unavailable', 'gpu-unavailable']));
    expect(got.aucGpuMiBs).toBeGreaterThan(0);
    expect(got.flareFormulas.maxGpuStableMiB).not.toBeNull();
    expect(got.peakGpuMiBAccounting).toBe(4100);
  });

  it('declines past the time limit (the figures are cut there) and after a sample out of time order', () => {
    const samples = trace(3, 100); // about 10 s
    const limited = running({ timeLimitSeconds: 5 });
    const acc = accumulator(limited);
    acc.addFrom(samples.slice(0, 30));
    expect(bits(acc.summary(verdictOf(limited)))).toBe(bits(summarizeRun({ ...limited, samples: samples.slice(0, 30) })));
    acc.addFrom(samples);
    expect(acc.summary(verdictOf(limited))).toBeNull();

    const base = running();
    const unordered = accumulator(base);
    unordered.addFrom(samples.slice(0, 50));
    unordered.add({ ...samples[10] });
    expect(unordered.summary(verdictOf(base))).toBeNull();
  });

  it('refuses an nCpu summarizeRun refuses', () => {
    const base = running({ nCpu: 0 });
    expect(() => accumulator(base).summary(verdictOf(base))).toThrow(RangeError);
  });
});
