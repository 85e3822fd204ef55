import { describe, expect, it } from 'vitest';
import { resolveStatus, summarizeRun } from '../../src/core/summary.js';
import { cpuTimes, input, nodeSample, nonFiniteNumbers, runSamples } from './fixtures.js';

describe('summarizeRun: a completed run with irregular intervals', () => {
  // nCpu 4, tolerance 2048, run from 0 s to 3 s; ticks at 0.5, 1.0, 2.5, 2.75 s.
  const summary = summarizeRun(
    input({
      endSeconds: 3,
      samples: runSamples([
        { t: 0.5, cpu: 0.2, ram: 100, gpu: 0, dev: 1000 },
        { t: 1.0, cpu: 0.6, ram: 300, gpu: 3048, dev: 4048 },
        { t: 2.5, cpu: 2.1, ram: 300, gpu: 3048, dev: 4048 },
        { t: 2.75, cpu: 2.6, ram: 200, gpu: 1048, dev: 2048 },
      ]),
    }),
  );

  it('takes CPU from the counter at the end, CPU before the first tick included', () => {
    expect(summary.cpuSeconds).toBe(2.6);
    expect(summary.aucCpuPctS).toBeCloseTo(65, 9); // 100 × 2.6 / 4
    expect(summary.aucCpuCorePctS).toBeCloseTo(260, 9); // 100 × 2.6
    // intervals: 0.4/0.5 = 80 %, 1.5/1.5 = 100 %, 0.5/0.25 = 200 % of one core → max 200; /4 = 50
    expect(summary.maxCpuCorePct).toBeCloseTo(200, 9);
    expect(summary.maxCpuPct).toBeCloseTo(50, 9);
  });

  it('integrates process GPU memory above the tolerance with exact crossings', () => {
    // excess −2048, +1000, +1000, −1000
    // [0.5,1.0]  up-crossing:   1000²/(2048+1000)/2 × 0.5 = 1e6/12192 = 82.0210
    // [1.0,2.5]  above:         1000 × 1.5               = 1500
    // [2.5,2.75] down-crossing: 1000²/2000/2 × 0.25      = 62.5
    expect(summary.aucGpuMiBs).toBeCloseTo(1e6 / 12192 + 1500 + 62.5, 9);
    expect(summary.maxGpuMiB).toBe(3048);
  });

  it('integrates device-level GPU memory the same way', () => {
    // excess −1048, +2000, +2000, 0
    // [0.5,1.0]: 2000²/(1048+2000)/2 × 0.5 = 4e6/12192 = 328.0840; [1.0,2.5]: 3000; [2.5,2.75]: (2000+0)/2 × 0.25 = 250
    expect(summary.aucGpuDeviceMiBs).toBeCloseTo(4e6 / 12192 + 3000 + 250, 9);
    expect(summary.maxGpuDeviceMiB).toBe(4048);
  });

  it('integrates RAM without a tolerance', () => {
    // (100+300)/2×0.5 = 100; 300×1.5 = 450; (300+200)/2×0.25 = 62.5 → 612.5
    expect(summary.aucRamMiBs).toBeCloseTo(612.5, 9);
    expect(summary.maxRamMiB).toBe(300);
  });

  it('states the covered span and the unsampled head and tail instead of extrapolating', () => {
    expect(summary.coveredSeconds).toBeCloseTo(2.25, 9); // 2.75 − 0.5
    expect(summary.unsampledHeadSeconds).toBeCloseTo(0.5, 9);
    expect(summary.unsampledTailSeconds).toBeCloseTo(0.25, 9); // 3 − 2.75
    expect(summary.tailCpuBoundSeconds).toBeCloseTo(1, 9); // 0.25 × 4 CPUs
  });

  it('copies identity fields and scores the measured values', () => {
    expect(summary).toMatchObject({
      status: 'completed',
      terminationReason: 'exited',
      exitCode: 0,
      wallSeconds: 3,
      nCpu: 4,
      gpuToleranceMiB: 2048,
      sampleCount: 4,
      intervalMs: 100,
      timeLimitSeconds: null,
      exceededTimeLimit: false,
      flags: [],
    });
    expect(summary.scoring).toEqual({
      timeSeconds: 3,
      aucGpuMiBs: summary.aucGpuMiBs,
      aucCpuPctS: summary.aucCpuPctS,
      penalised: false,
    });
  });
});

describe('summarizeRun: time limit', () => {
  // nCpu 2, limit 2 s, the run went on to 3 s. Ticks at 0.5, 1.5, 2.5 s.
  const ticks = [
    { t: 0.5, cpu: 0.5, ram: 100, gpu: 2048, dev: 3000 },
    { t: 1.5, cpu: 1.5, ram: 200, gpu: 4048, dev: 3000 },
    { t: 2.5, cpu: 3.5, ram: 400, gpu: 6048, dev: 3000 },
  ];
  const summary = summarizeRun(input({ endSeconds: 3, nCpu: 2, timeLimitSeconds: 2, samples: runSamples(ticks) }));

  it('marks the run as timed out but keeps why it ended', () => {
    expect(summary.status).toBe('timeout');
    expect(summary.terminationReason).toBe('exited');
    expect(summary.exceededTimeLimit).toBe(true);
    expect(summary.wallSeconds).toBe(3); // the real wall time stays visible
    expect(summary.flags).toEqual(['cut-at-time-limit']);
  });

  it('scores with the penalties', () => {
    expect(summary.scoring).toEqual({ timeSeconds: 3600, aucGpuMiBs: 29_491_200, aucCpuPctS: 360_000, penalised: true });
  });

  it('interpolates the counter at the limit and integrates up to it only', () => {
    // cut at 2 s, halfway between 1.5 and 2.5: cpu (1.5+3.5)/2 = 2.5, ram 300, gpu 5048, dev 3000
    expect(summary.cpuSeconds).toBeCloseTo(2.5, 9);
    expect(summary.aucCpuPctS).toBeCloseTo(125, 9); // 100 × 2.5 / 2
    // intervals: 1.0/1.0 = 100 %, (2.5−1.5)/0.5 = 200 % → max 200 % of a core, 100 % of the host
    expect(summary.maxCpuCorePct).toBeCloseTo(200, 9);
    expect(summary.maxCpuPct).toBeCloseTo(100, 9);
    // GPU excess 0, 2000, 3000 at 0.5, 1.5, 2.0: (0+2000)/2×1 + (2000+3000)/2×0.5 = 1000 + 1250
    expect(summary.aucGpuMiBs).toBeCloseTo(2250, 9);
    expect(summary.maxGpuMiB).toBeCloseTo(5048, 9); // the curve's value at the limit; 6048 lies past it
    expect(summary.aucGpuDeviceMiBs).toBeCloseTo(952 * 1.5, 9);
    // RAM: (100+200)/2×1 + (200+300)/2×0.5 = 150 + 125
    expect(summary.aucRamMiBs).toBeCloseTo(275, 9);
    expect(summary.maxRamMiB).toBeCloseTo(300, 9);
  });

  it('measures coverage up to the limit', () => {
    expect(summary.coveredSeconds).toBeCloseTo(1.5, 9); // 2.0 − 0.5
    expect(summary.unsampledHeadSeconds).toBeCloseTo(0.5, 9);
    expect(summary.unsampledTailSeconds).toBe(0);
    expect(summary.tailCpuBoundSeconds).toBe(0);
    expect(summary.sampleCount).toBe(3);
  });

  it('leaves a run under or exactly at its limit alone', () => {
    const atLimit = summarizeRun(input({ endSeconds: 2, nCpu: 2, timeLimitSeconds: 2, samples: runSamples(ticks.slice(0, 2)) }));
    expect(atLimit).toMatchObject({ status: 'completed', exceededTimeLimit: false, flags: [] });
    expect(atLimit.scoring.penalised).toBe(false);
  });

  it('cuts without interpolating when no tick lies past the limit', () => {
    // Docker says 10.5 s (> 10), our clock saw the end at 10.2 s; ticks at 2 s and 9.9 s only.
    const s = summarizeRun(
      input({
        endSeconds: 10.2,
        wallSecondsOverride: 10.5,
        nCpu: 2,
        timeLimitSeconds: 10,
        status: 'oom',
        terminationReason: 'oom',
        exitCode: 137,
        samples: runSamples([
          { t: 2, cpu: 1, ram: 10, gpu: 3048 },
          { t: 9.9, cpu: 5, ram: 10, gpu: 3048 },
        ]),
      }),
    );
    expect(s).toMatchObject({ status: 'timeout', terminationReason: 'oom', exitCode: 137, wallSeconds: 10.5 });
    expect(s.cpuSeconds).toBe(5);
    expect(s.aucGpuMiBs).toBeCloseTo(1000 * 7.9, 9);
    expect(s.unsampledTailSeconds).toBeCloseTo(0.1, 9); // min(10.2, 10) − 9.9
    expect(s.tailCpuBoundSeconds).toBeCloseTo(0.2, 9);
  });

  it('interpolates the counter from zero at the start when the first tick is past the limit', () => {
    // limit 1 s, only tick at 4 s with 2 CPU s: the counter (0 at start) reads 2 × 1/4 = 0.5 at the limit
    const s = summarizeRun(input({ endSeconds: 5, timeLimitSeconds: 1, samples: runSamples([{ t: 4, cpu: 2, gpu: 9000 }]) }));
    expect(s.cpuSeconds).toBeCloseTo(0.5, 9);
    expect(s.aucGpuMiBs).toBeNull(); // no GPU value before the limit
    expect(s.unsampledTailSeconds).toBe(1);
    expect(s.tailCpuBoundSeconds).toBe(0); // the counter is known at the cut
    expect(nonFiniteNumbers(s)).toEqual([]);
  });
});

describe('resolveStatus', () => {
  it('turns every ended status into timeout over the limit, keeps running, flags interrupted', () => {
    expect(resolveStatus('completed', true)).toEqual({ status: 'timeout', flags: [] });
    expect(resolveStatus('failed', true)).toEqual({ status: 'timeout', flags: [] });
    expect(resolveStatus('oom', true)).toEqual({ status: 'timeout', flags: [] });
    expect(resolveStatus('interrupted', true)).toEqual({ status: 'timeout', flags: ['interrupted'] });
    expect(resolveStatus('running', true)).toEqual({ status: 'running', flags: [] });
    expect(resolveStatus('failed', false)).toEqual({ status: 'failed', flags: [] });
  });

  it('penalises a running run that is already over its limit', () => {
    const s = summarizeRun(
      input({ endSeconds: null, status: 'running', terminationReason: null, exitCode: null, timeLimitSeconds: 1, samples: runSamples([{ t: 0.5, cpu: 0.1 }, { t: 1.5, cpu: 1.1 }]) }),
    );
    expect(s).toMatchObject({ status: 'running', exceededTimeLimit: true, wallSeconds: 1.5 });
    expect(s.scoring.penalised).toBe(true);
    expect(s.cpuSeconds).toBeCloseTo(0.6, 9); // halfway 0.1 → 1.1
  });
});

describe('summarizeRun: degenerate runs', () => {
  it('summarises a one-sample run without inventing intervals', () => {
    // nCpu 2, tick at 0.4 s, end at 1 s
    const s = summarizeRun(input({ endSeconds: 1, nCpu: 2, samples: runSamples([{ t: 0.4, cpu: 0.3, ram: 50, gpu: 5000, dev: 6000 }]) }));
    expect(s.cpuSeconds).toBe(0.3);
    expect(s.aucCpuPctS).toBeCloseTo(15, 9); // 100 × 0.3 / 2
    expect(s.maxCpuPct).toBeNull();
    expect(s.maxCpuCorePct).toBeNull();
    expect(s).toMatchObject({ aucGpuMiBs: 0, maxGpuMiB: 5000, aucGpuDeviceMiBs: 0, maxGpuDeviceMiB: 6000, aucRamMiBs: 0, maxRamMiB: 50 });
    expect(s.coveredSeconds).toBe(0);
    expect(s.unsampledHeadSeconds).toBeCloseTo(0.4, 9);
    expect(s.unsampledTailSeconds).toBeCloseTo(0.6, 9);
    expect(s.tailCpuBoundSeconds).toBeCloseTo(1.2, 9); // 0.6 × 2
  });

  it('summarises an empty run with nulls (no counter read: CPU unknown, never 0), no NaN anywhere', () => {
    const s = summarizeRun(input({ endSeconds: 2, status: 'failed', exitCode: 1 }));
    expect(nonFiniteNumbers(s)).toEqual([]);
    expect(s).toMatchObject({
      status: 'failed',
      wallSeconds: 2,
      cpuSeconds: null,
      aucCpuPctS: null,
      aucCpuCorePctS: null,
      maxCpuPct: null,
      maxCpuCorePct: null,
      aucGpuMiBs: null,
      maxGpuMiB: null,
      aucGpuDeviceMiBs: null,
      maxGpuDeviceMiB: null,
      aucRamMiBs: null,
      maxRamMiB: null,
      sampleCount: 0,
      coveredSeconds: 0,
      unsampledHeadSeconds: 0,
      unsampledTailSeconds: 2, // nothing was sampled: the whole run is unknown
      tailCpuBoundSeconds: 8, // 2 s × 4 CPUs
      flags: [],
    });
    expect(s.scoring).toEqual({ timeSeconds: 2, aucGpuMiBs: null, aucCpuPctS: null, penalised: false });
    expect(s.flareFormulas.aucGpuMiBs).toBeNull();
  });

  it('summarises an empty running run at time zero, no NaN anywhere', () => {
    const s = summarizeRun(input({ endSeconds: null, status: 'running', timeLimitSeconds: 5 }));
    expect(nonFiniteNumbers(s)).toEqual([]);
    expect(s).toMatchObject({ status: 'running', wallSeconds: 0, unsampledTailSeconds: 0, exceededTimeLimit: false });
  });

  it('rejects a node without CPUs instead of dividing by zero', () => {
    expect(() => summarizeRun(input({ nCpu: 0 }))).toThrow(RangeError);
  });
});

describe('summarizeRun: counters and gaps', () => {
  it('continues across a CPU counter reset and flags it', () => {
    // raw 1, 2, 0.5, 1.5 at 1..4 s → corrected 1, 2, 2.5, 3.5; intervals 100 %, 50 %, 100 %
    const s = summarizeRun(
      input({ endSeconds: 4, samples: runSamples([{ t: 1, cpu: 1 }, { t: 2, cpu: 2 }, { t: 3, cpu: 0.5 }, { t: 4, cpu: 1.5 }]) }),
    );
    expect(s.cpuSeconds).toBe(3.5);
    expect(s.maxCpuCorePct).toBeCloseTo(100, 9);
    expect(s.flags).toContain('cpu-counter-reset');
  });

  it('skips null CPU reads and bounds the tail from the last real read', () => {
    // last tick (3 s) could not read the counter: cpuSeconds from the 2-s tick, bound (4 − 2) × 4 CPUs = 8
    const s = summarizeRun(
      input({ endSeconds: 4, samples: runSamples([{ t: 1, cpu: 1, ram: 5 }, { t: 2, cpu: 1.5, ram: 5 }, { t: 3, cpu: null, ram: 5 }]) }),
    );
    expect(s.cpuSeconds).toBe(1.5);
    expect(s.unsampledTailSeconds).toBe(1);
    expect(s.tailCpuBoundSeconds).toBe(8);
    expect(s.flags).toEqual(['cpu-unavailable']);
  });

  it('leaves GPU null gaps out of the integral and flags them', () => {
    // [0,1]: 1000; [1,2], [2,3] touch null; [3,4]: 2000 → 3000
    const s = summarizeRun(
      input({
        endSeconds: 4,
        flags: ['attached-late'],
        samples: runSamples([
          { t: 0, gpu: 3048 },
          { t: 1, gpu: 3048 },
          { t: 2, gpu: null },
          { t: 3, gpu: 4048 },
          { t: 4, gpu: 4048 },
        ]),
      }),
    );
    expect(s.aucGpuMiBs).toBe(3000);
    expect(s.maxGpuMiB).toBe(4048);
    expect(s.aucGpuDeviceMiBs).toBeNull();
    expect(s.flags).toEqual(['attached-late', 'gpu-unavailable']);
  });

  it('gives null GPU figures and no extra flag when no GPU value was ever known', () => {
    const s = summarizeRun(
      input({ endSeconds: 2, flags: ['gpu-unavailable'], samples: runSamples([{ t: 0, cpu: 0 }, { t: 1, cpu: 1 }]) }),
    );
    expect(s).toMatchObject({ aucGpuMiBs: null, maxGpuMiB: null, aucGpuDeviceMiBs: null, maxGpuDeviceMiB: null });
    expect(s.flags).toEqual(['gpu-unavailable']); // passed through once, not duplicated
    expect(s.scoring.aucGpuMiBs).toBeNull();
  });
});

describe('summarizeRun: wall time and the official block', () => {
  it("prefers Docker's wall time but keeps coverage on the monotonic clock", () => {
    const s = summarizeRun(input({ endSeconds: 3, wallSecondsOverride: 2.987654321, samples: runSamples([{ t: 0.5, cpu: 1 }, { t: 2.5, cpu: 2 }]) }));
    expect(s.wallSeconds).toBe(2.987654321);
    expect(s.scoring.timeSeconds).toBe(2.987654321);
    expect(s.unsampledTailSeconds).toBeCloseTo(0.5, 9); // 3 − 2.5 on our clock
  });

  it('fills the official block from device GPU and host samples, not cut at the limit', () => {
    // Device GPU 3000, 5000, 7000 at 0.1-s nominal: (3000+5000+7000) × 0.1 = 1500 MiB·s, also past the 0.15-s limit.
    // Host, 2 CPUs: one idle 0.1-s pair → 33.33 % → × 0.1 = 3.333 %·s. RAM (100 + 300) × 0.1 = 40.
    const s = summarizeRun(
      input({
        endSeconds: 0.3,
        timeLimitSeconds: 0.15,
        samples: runSamples([{ t: 0, dev: 3000 }, { t: 0.1, dev: 5000 }, { t: 0.2, dev: 7000 }]),
        nodeSamples: [nodeSample(0, cpuTimes(1, 1, 10), 100), nodeSample(0.1, cpuTimes(1, 1, 10.2), 300)],
      }),
    );
    expect(s.flareFormulas.aucGpuMiBs).toBeCloseTo(1500, 9);
    expect(s.flareFormulas.maxGpuMiB).toBe(7000);
    expect(s.flareFormulas.aucCpuPctS).toBeCloseTo(10 / 3, 9);
    expect(s.flareFormulas.maxCpuStablePct).toBe(33);
    expect(s.flareFormulas.aucRamMiBs).toBeCloseTo(40, 9);
    expect(s.flareFormulas.sampleCount).toBe(3);
    // The exact figure is cut at the limit: excess 952, 2952, then 3952 interpolated at 0.15 s
    // → (952+2952)/2×0.1 + (2952+3952)/2×0.05 = 195.2 + 172.6 = 367.8
    expect(s.aucGpuDeviceMiBs).toBeCloseTo(367.8, 9);
  });
});
