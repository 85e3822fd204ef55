// Pure GPU-counter figures (src/core/gpu-run.ts): accounting peak and spike flag, energy, sharing.
import { describe, expect, it } from 'vitest';
import {
  accountingFigures,
  energyFromCounterJ,
  addPowerReading,
  emptyPowerIntegral,
  type PowerIntegral,
  withGpuReadings,
  type RunGpuReadings,
} from '../../src/core/gpu-run.js';
import { summarizeRun } from '../../src/core/summary.js';
import type { AccountedProcess } from '../../src/core/types.js';
import { input, runSamples } from './fixtures.js';

const proc = (pid: number, peakMiB: number | null, gpuTimeSeconds: number | null = 1, record: AccountedProcess['record'] = 'ok'): AccountedProcess => ({
  pid, gpuIndex: 0, record, peakMiB, gpuTimeSeconds, gpuUtilPct: null,
});

describe('accountingFigures', () => {
  it('one process: its peak; above the sampled max it is a missed spike', () => {
    expect(accountingFigures([proc(1, 9000, 1.04)], 3000)).toEqual({ peakGpuMiBAccounting: 9000, gpuSpikeMissed: true, gpuTimeSeconds: 1.04, unknownProcesses: 0, flags: ['gpu-spike-missed'] });
    expect(accountingFigures([proc(1, 3000)], 3000).gpuSpikeMissed).toBe(false);
    // Within the rounding margin: no spike.
    expect(accountingFigures([proc(1, 3000.5)], 3000).gpuSpikeMissed).toBe(false);
    // A sampled max of null (never known) compares as 0: any positive peak was missed.
    expect(accountingFigures([proc(1, 10)], null).gpuSpikeMissed).toBe(true);
  });

  it('several processes: the sum is an upper bound (flagged); the spike needs one process above the sampled max', () => {
    const f = accountingFigures([proc(1, 2000, 1), proc(2, 2000, 2)], 3000);
    expect(f).toEqual({ peakGpuMiBAccounting: 4000, gpuSpikeMissed: false, gpuTimeSeconds: 3, unknownProcesses: 0, flags: ['gpu-accounting-peak-upper-bound'] });
  });

  it('an unknown record (out of the buffer, or NA): peak and time unknown, never 0; a known spike still counts', () => {
    const f = accountingFigures([proc(1, null, null, 'not-in-buffer'), proc(2, 5000, 1)], 3000);
    expect(f.peakGpuMiBAccounting).toBeNull();
    expect(f.gpuTimeSeconds).toBeNull();
    expect(f.gpuSpikeMissed).toBe(true);
    expect(f.flags).toContain('gpu-accounting-incomplete');
    expect(f.unknownProcesses).toBe(1);
    expect(accountingFigures([proc(1, null, null, 'not-in-buffer')], 3000).gpuSpikeMissed).toBeNull();
    expect(accountingFigures([], 3000)).toEqual({ peakGpuMiBAccounting: null, gpuSpikeMissed: null, gpuTimeSeconds: null, unknownProcesses: 0, flags: [] });
  });
});

describe('energy', () => {
  it('from the counter: end − start in J; unknown or gone back (driver reload) is null', () => {
    expect(energyFromCounterJ(1_000_000, 1_450_500)).toBe(450.5);
    expect(energyFromCounterJ(null, 5)).toBeNull();
    expect(energyFromCounterJ(10, 5)).toBeNull();
  });

  /** The readings added one at a time, as the GPU counters' tick does (gpu/run-gpu.ts). */
  const integrate = (points: { tSeconds: number; powerMw: number | null }[]): PowerIntegral => {
    const acc = emptyPowerIntegral();
    for (const p of points) addPowerReading(acc, p.tSeconds, p.powerMw);
    return acc;
  };

  it('a power ramp 100 W → 300 W over 4 s integrates to exactly 800 J (trapezoids are exact on a line)', () => {
    const points = [0, 0.7, 1.1, 2.5, 3.2, 4].map((t) => ({ tSeconds: t, powerMw: 100_000 + 50_000 * t }));
    const r = integrate(points);
    expect(r.energyJ).toBeCloseTo(800, 9);
    expect(r.coveredSeconds).toBeCloseTo(4, 9);
  });

  it('an unknown power reading drops the spans on either side, not zero-filled', () => {
    const r = integrate([{ tSeconds: 0, powerMw: 100_000 }, { tSeconds: 1, powerMw: null }, { tSeconds: 2, powerMw: 100_000 }, { tSeconds: 3, powerMw: 100_000 }]);
    expect(r).toMatchObject({ energyJ: 100, coveredSeconds: 1 });
  });

  it('a reading at the same time or earlier adds nothing and becomes the next span\'s start', () => {
    const r = integrate([{ tSeconds: 1, powerMw: 100_000 }, { tSeconds: 1, powerMw: 300_000 }, { tSeconds: 0.5, powerMw: 100_000 }, { tSeconds: 1.5, powerMw: 100_000 }]);
    expect(r).toEqual({ lastSeconds: 1.5, lastMw: 100_000, energyJ: 100, coveredSeconds: 1 });
  });
});

describe('withGpuReadings', () => {
  const summary = summarizeRun(input({ samples: runSamples([{ t: 0, cpu: 0, gpu: 3000 }, { t: 1, cpu: 1, gpu: 3000 }]) }));
  const readings = (over: Partial<RunGpuReadings>): RunGpuReadings => ({
    accountingMode: 'on', processes: [proc(1, 9000, 1.04)], unseenAccountedProcesses: 0,
    energy: { energyJ: 450, method: 'counter', coveredSeconds: null }, sharedDuringRun: false, sharedAtStart: { processes: 0, usedMiB: 0 }, ...over,
  });

  it('summarizeRun with the readings is the summary with them added: one call makes the whole summary', () => {
    const base = input({ samples: runSamples([{ t: 0, cpu: 0, gpu: 3000 }, { t: 1, cpu: 1, gpu: 3000 }]) });
    for (const r of [readings({}), readings({ accountingMode: 'off', sharedDuringRun: true }), readings({ unseenAccountedProcesses: 2, energy: null })]) {
      expect(summarizeRun({ ...base, gpu: r })).toEqual(withGpuReadings(summary, r));
    }
    expect(summarizeRun({ ...base, gpu: null })).toEqual(summary);
  });

  it('adds the fields beside the sampled max, with the spike flag', () => {
    const s = withGpuReadings(summary, readings({}));
    expect([s.maxGpuMiB, s.peakGpuMiBAccounting, s.gpuSpikeMissed, s.gpuEnergyJ, s.gpuEnergyMethod]).toEqual([3000, 9000, true, 450, 'counter']);
    expect(s.flags).toContain('gpu-spike-missed');
    expect(s.flags).not.toContain('shared-gpu');
    expect(summary.flags).not.toContain('gpu-spike-missed'); // the input is not changed
  });

  it('shared GPU, energy from power, gpu-shared at start', () => {
    const s = withGpuReadings(summary, readings({ sharedDuringRun: true, energy: { energyJ: 12, method: 'power', coveredSeconds: 1 }, sharedAtStart: { processes: 2, usedMiB: 1536.4 } }));
    expect(s.flags).toEqual(expect.arrayContaining(['shared-gpu', 'energy-from-power', 'gpu-shared-at-start']));
    expect(s.gpuSharedAtStart).toEqual({ processes: 2, usedMiB: 1536.4 });
  });

  it('accounting off: no figures, one flag, no "incomplete" noise', () => {
    const s = withGpuReadings(summary, readings({ accountingMode: 'off', processes: [proc(1, null, null, 'unavailable')] }));
    expect(s.peakGpuMiBAccounting).toBeNull();
    expect(s.flags).toContain('gpu-accounting-off');
    expect(s.flags.some((f) => f.startsWith('gpu-accounting-incomplete'))).toBe(false);
  });

  it('counts as facts, words as flags: unknown records of how many, unseen processes', () => {
    const s = withGpuReadings(summary, readings({ processes: [proc(1, null, null, 'not-in-buffer'), proc(2, 500, 1)], unseenAccountedProcesses: 3 }));
    expect(s.flags).toEqual(expect.arrayContaining(['gpu-accounting-incomplete', 'gpu-unseen-processes']));
    expect([s.gpuProcessesUnknown, s.gpuProcessCount, s.gpuUnseenProcesses]).toEqual([1, 2, 3]);
    const none = withGpuReadings(summary, readings({}));
    expect([none.gpuProcessesUnknown, none.gpuProcessCount, none.gpuUnseenProcesses]).toEqual([undefined, undefined, undefined]);
  });
});
