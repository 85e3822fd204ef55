// The modelled FLARE monitor against hand-computed traces: one test per fact of docs/scoring.md
// (span, loop period, first CPU sample, max rules per year, numpy rounding).
import { describe, expect, it } from 'vitest';
import { npRound, officialFigures, rint, stableMaxExact, type OfficialRules } from '../../src/official/figures.js';
import { officialSpan, officialTicks, officialTrace, withResultWrite, type LoopModel, type SpanModel } from '../../src/official/model.js';
import { atNs, cpuTimes, nodeSample, runSamples, START_NS } from '../core/fixtures.js';

const NO_SPAN: SpanModel = { cliStartSeconds: 0, createToStartSeconds: 0, stopToRemovedSeconds: 0, cliExitSeconds: 0, resultWriteSeconds: 0, resultWritePerSampleSeconds: 0 };
const PLAIN_LOOP: LoopModel = { nominalIntervalSeconds: 0.1, samplingCostSeconds: 0, samplingCpuSeconds: 0, firstTickDelaySeconds: 0, firstCpuIntervalSeconds: 0.1, firstCpuBusyCores: 0 };
const RAW: OfficialRules = {
  maxRule: { gpu: 'max', cpu: 'max', ram: 'max' },
  stableMinShare: 0.02,
  decimals: { time: null, gpuMax: null, gpuAuc: null, cpuMax: null, cpuAuc: null, ramMax: null, ramAuc: null },
  nominalIntervalSeconds: 0.1,
};

describe('span: the script times docker run from before create to after --rm removal and the JSON write', () => {
  const model: SpanModel = { cliStartSeconds: 0.06, createToStartSeconds: 0.18, stopToRemovedSeconds: 0.015, cliExitSeconds: 0.012, resultWriteSeconds: 0.005, resultWritePerSampleSeconds: 0 };

  it('from the harness own timing: Time = cli start + (removed − before create) + cli exit + JSON write', () => {
    const span = officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(4), harness: { beforeCreateMonoNs: atNs(-0.2), afterRemoveMonoNs: atNs(4.03) } }, model);
    // 0.06 + 4.23 + 0.012 + 0.005 = 4.307 s
    expect(span.source).toBe('harness');
    expect((span.timeEndMonoNs - span.timeStartMonoNs) / 1e9).toBeCloseTo(4.307, 9);
    expect(span.timeStartMonoNs).toBe(atNs(-0.26));
    expect(span.monitorEndMonoNs).toBe(atNs(4.042));
  });

  it('from Docker create/destroy when both are known', () => {
    const span = officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(4), createdMonoNs: atNs(-0.1), destroyedMonoNs: atNs(4.05) }, model);
    expect(span.source).toBe('docker-events');
    // 0.06 + 4.15 + 0.012 + 0.005 = 4.227
    expect((span.timeEndMonoNs - span.timeStartMonoNs) / 1e9).toBeCloseTo(4.227, 9);
  });

  it('modelled from StartedAt/FinishedAt otherwise: 4.004 s of container → 4.276 s official', () => {
    const span = officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(4.004) }, model);
    // 0.06 + 0.18 + 4.004 + 0.015 + 0.012 + 0.005 = 4.276
    expect(span.source).toBe('modelled');
    expect((span.timeEndMonoNs - span.timeStartMonoNs) / 1e9).toBeCloseTo(4.276, 9);
  });
});

describe('the JSON write before the clock is read grows with the samples', () => {
  it('Time = monitor span + resultWrite + perSample · samples (100 samples at 0.2 ms add 0.02 s)', () => {
    const model = { ...NO_SPAN, resultWriteSeconds: 0.011, resultWritePerSampleSeconds: 0.0002 };
    const span = officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(9.95) }, model);
    const ticks = officialTicks(span, PLAIN_LOOP).length; // 0, 0.1, …, 9.9 → 100
    expect(ticks).toBe(100);
    const timed = withResultWrite(span, ticks, model);
    expect((timed.timeEndMonoNs - timed.timeStartMonoNs) / 1e9).toBeCloseTo(9.95 + 0.011 + 0.02, 9);
    expect(timed.monitorEndMonoNs).toBe(span.monitorEndMonoNs);
  });
});

describe('period: samples every nominal + sampling cost, every sum × nominal', () => {
  it('a constant 1000 MiB over 1 s sampled every 0.125 s gives 9 samples and AUC 900 (not 1000)', () => {
    const span = officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(1) }, NO_SPAN);
    const loop = { ...PLAIN_LOOP, samplingCostSeconds: 0.025 };
    // ticks at 0, 0.125, …, 1.0 → 9
    expect(officialTicks(span, loop)).toHaveLength(9);
    const trace = officialTrace({ samples: runSamples([{ t: 0, dev: 1000 }, { t: 1, dev: 1000 }]), nodeSamples: [], gpuDevices: null }, span, loop);
    expect(trace.gpuMiB).toEqual(Array(9).fill(1000));
    expect(trace.periodSeconds).toBeCloseTo(0.125, 12);
    const f = officialFigures(trace, span, RAW);
    expect(f.aucGpuMiBs).toBeCloseTo(900, 9);
    expect(f.timeSeconds).toBeCloseTo(1, 9);
  });

  it('outside the container, GPU comes from the node readings of the run\'s own GPU (baseline), not the held last value', () => {
    // Container holds 3400 on device 1 from 0 to 1 s; the node reads 400 on it before and after.
    const span = officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(1), harness: { beforeCreateMonoNs: atNs(-0.2), afterRemoveMonoNs: atNs(1.3) } }, NO_SPAN);
    const nodes = [-0.3, -0.1, 1.15, 1.35].map((t) => ({ ...nodeSample(t, cpuTimes(0, 0, 0), 1), gpus: [{ index: 1, uuid: 'GPU-b', usedMiB: 400, totalMiB: 16000, utilPct: 0 }, { index: 0, uuid: 'GPU-a', usedMiB: 9999, totalMiB: 16000, utilPct: 0 }] }));
    const samples = runSamples([0, 0.25, 0.5, 0.75, 1].map((t) => ({ t, dev: 3400 })));
    const trace = officialTrace({ samples, nodeSamples: nodes, gpuDevices: ['1'] }, span, PLAIN_LOOP);
    // ticks −0.2 … 1.3 (16): −0.2, −0.1 → 400; 0 … 1.1 (12 ticks, the last run value held one nominal interval) → 3400; 1.2, 1.3 → 400
    expect(trace.gpuMiB).toEqual([400, 400, ...Array(12).fill(3400), 400, 400]);
  });
});

describe('GPU and RAM at a tick: our readings interpolated, not the last one before it', () => {
  it('a step between two of our readings counts by where the tick falls between them (held would lag half an interval)', () => {
    const span = officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(0.3) }, NO_SPAN);
    // Our readings: 3400 at 0 and 0.1 s, 400 at 0.2 and 0.3 s; the script ticks at 0.06, 0.16, 0.26.
    const samples = runSamples([{ t: 0, dev: 3400 }, { t: 0.1, dev: 3400 }, { t: 0.2, dev: 400 }, { t: 0.3, dev: 400 }]);
    const loop = { ...PLAIN_LOOP, firstTickDelaySeconds: 0.06 };
    // 0.16 is 60 % of the way from 0.1 to 0.2: 3400 − 0.6·3000 = 1600, the script's expected reading
    // (held: 3400, a whole step wrong whenever the change came before 0.16).
    expect(officialTrace({ samples, nodeSamples: [], gpuDevices: null }, span, loop).gpuMiB).toEqual([3400, 1600, 400]);
    // RAM: host readings 1000 at 0, 2000 at 0.1: a tick at 0.06 reads 1600, at 0.04 reads 1400.
    const nodes = [0, 0.1].map((t, i) => nodeSample(t, cpuTimes(0, 0, t), 1000 * (i + 1)));
    const ram = (delay: number): number[] => officialTrace({ samples: [], nodeSamples: nodes, gpuDevices: null }, officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(0.09) }, NO_SPAN), { ...PLAIN_LOOP, firstTickDelaySeconds: delay }).ramMiB;
    expect(ram(0.06)[0]).toBeCloseTo(1600, 9);
    expect(ram(0.04)[0]).toBeCloseTo(1400, 9);
  });
});

describe('first CPU sample: the interval since the script read cpu_times at start-up', () => {
  // 2-CPU host, idle throughout: Δidle = 2·Δt.
  const nodes = [-1, -0.5, 0, 0.1, 0.2, 0.3].map((t) => nodeSample(t, cpuTimes(10, 5, 100 + 2 * (t + 1)), 1000));
  const span = officialSpan({ startedMonoNs: atNs(0), endedMonoNs: atNs(0.2) }, NO_SPAN);

  it('reaches back firstCpuIntervalSeconds and carries the script\'s own start-up load', () => {
    const loop = { ...PLAIN_LOOP, firstCpuIntervalSeconds: 0.5, firstCpuBusyCores: 1 };
    const trace = officialTrace({ samples: [], nodeSamples: nodes, gpuDevices: null }, span, loop);
    // first: Δidle 1.0 − 0.5 moved to user → 100 − 100·0.5/(0.5+0.5+0.1) = 54.545…
    // then idle 0.1-s intervals: 100 − 100·0.2/0.3 = 33.333…
    expect(trace.cpuPct).toHaveLength(3);
    expect(trace.cpuPct[0]).toBeCloseTo(100 - 50 / 1.1, 9);
    expect(trace.cpuPct[1]).toBeCloseTo(100 / 3, 9);
    expect(trace.cpuPct[2]).toBeCloseTo(100 / 3, 9);
  });

  it('a short busy first interval reads high: the +0.1 s pad dominates (0.04 s, one core busy → 78.6 %)', () => {
    const loop = { ...PLAIN_LOOP, firstCpuIntervalSeconds: 0.04, firstCpuBusyCores: 1 };
    const trace = officialTrace({ samples: [], nodeSamples: nodes, gpuDevices: null }, span, loop);
    // Δidle 0.08 − 0.04 = 0.04, Δuser 0.04 → 100 − 4/0.18 = 77.78 %
    expect(trace.cpuPct[0]).toBeCloseTo(100 - 4 / 0.18, 9);
  });

  it('each later interval carries the loop\'s own CPU', () => {
    const loop = { ...PLAIN_LOOP, samplingCpuSeconds: 0.01 };
    const trace = officialTrace({ samples: [], nodeSamples: nodes, gpuDevices: null }, span, loop);
    // Δidle 0.19, Δuser 0.01 → 100 − 19/0.3 = 36.667 %
    expect(trace.cpuPct[1]).toBeCloseTo(100 - 19 / 0.3, 9);
  });

  it('a tick outside the host samples is missing, not read as 100 %', () => {
    const trace = officialTrace({ samples: [], nodeSamples: nodes.slice(2), gpuDevices: null }, span, { ...PLAIN_LOOP, firstCpuIntervalSeconds: 0.5 });
    expect(trace.missing.cpu).toBe(1);
    expect(trace.cpuPct).toHaveLength(2);
  });
});

describe('max rules per year', () => {
  // 100 GPU samples: 97 × 3000, 2 × 9000 (a 2 % spike), 1 × 5000; CPU 99 × 40, 1 × 100.
  const trace = { periodSeconds: 0.1, gpuMiB: [...Array(97).fill(3000), 9000, 9000, 5000], cpuPct: [...Array(99).fill(40), 100], ramMiB: [1000, 2000.25], missing: { gpu: 0, cpu: 0, ram: 0 } };
  const span = { timeStartMonoNs: START_NS, monitorEndMonoNs: START_NS, timeEndMonoNs: START_NS + 1e9, source: 'modelled' as const };

  it('FLARE22: stable max for GPU only (the 2 % spike and the single 5000 are dropped), plain max for CPU and RAM', () => {
    const f = officialFigures(trace, span, { ...RAW, maxRule: { gpu: 'stable', cpu: 'max', ram: 'max' } });
    expect(f.maxGpuMiB).toBe(3000);
    expect(f.maxCpuPct).toBe(100);
    expect(f.maxRamMiB).toBe(2000.25);
  });

  it('FLARE23/24: plain max everywhere', () => {
    const f = officialFigures(trace, span, RAW);
    expect(f.maxGpuMiB).toBe(9000);
  });

  it('stable max counts exact values, strictly more than the share', () => {
    expect(stableMaxExact([1, 1, 2], 0.5)).toBe(1); // 2 appears 1 time, not more than 1.5
    expect(stableMaxExact([1, 2], 0.5)).toBeNull(); // nothing passes: their script failed on max([])
  });
});

describe('numpy rounding (round half to even, after scaling in binary)', () => {
  // Every expected value below is numpy 1.24's np.round output for the same input.
  it('rounds exact halves to even', () => {
    expect(rint(2.5)).toBe(2);
    expect(rint(3.5)).toBe(4);
    expect(rint(-2.5)).toBe(-2);
    expect(npRound(1234.5, 0)).toBe(1234);
    expect(npRound(0.125, 2)).toBe(0.12);
    expect(npRound(0.375, 2)).toBe(0.38);
  });

  // Checked against numpy 1.24: np.round(2.675, 2) = 2.68, np.round(1.005, 2) = 1.0.
  it('scales first, as numpy does: 2.675·100 = 267.5 exactly → 268 (even) → 2.68; 1.005·100 = 100.4999… → 1', () => {
    expect(npRound(2.675, 2)).toBe(2.68);
    expect(npRound(1.005, 2)).toBe(1);
  });

  it('FLARE22 decimals: Time 2, GPU 0, AUC GPU 0, CPU 2, AUC CPU 2, RAM 2, AUC RAM 0', () => {
    const trace = { periodSeconds: 0.1, gpuMiB: [3400.5, 3400.5, 3401.5], cpuPct: [66.6666, 33.335], ramMiB: [1000.125, 1000.5], missing: { gpu: 0, cpu: 0, ram: 0 } };
    const span = { timeStartMonoNs: START_NS, monitorEndMonoNs: START_NS, timeEndMonoNs: START_NS + 4_215_000_000, source: 'modelled' as const };
    const f = officialFigures(trace, span, { ...RAW, decimals: { time: 2, gpuMax: 0, gpuAuc: 0, cpuMax: 2, cpuAuc: 2, ramMax: 2, ramAuc: 0 } });
    expect(f.timeSeconds).toBe(4.22); // 4.215·100 = 421.5 exactly → 422 (even); numpy: 4.22
    expect(f.maxGpuMiB).toBe(3402); // 3401.5 → even
    expect(f.aucGpuMiBs).toBe(1020); // 10202.5 × 0.1 = 1020.25 → 1020
    expect(f.maxCpuPct).toBe(66.67);
    expect(f.aucCpuPctS).toBe(10); // 100.0016 × 0.1 = 10.00016 → 10
    expect(f.maxRamMiB).toBe(1000.5);
    expect(f.aucRamMiBs).toBe(200); // 200.0625 → 200
  });
});
