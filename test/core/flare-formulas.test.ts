import { describe, expect, it } from 'vitest';
import { flareFormulasBlock, hostCpuUsedPct, hostCpuUsedPctSeries } from '../../src/core/flare-formulas.js';
import { cpuTimes, nodeSample, runSamples } from './fixtures.js';

describe('hostCpuUsedPct (FLARE formula 100 − 100·Δidle/(Δuser+Δsystem+Δidle+0.1))', () => {
  it('reads an idle 2-CPU host as about 33 % over FLARE\'s 0.1-s interval (the +0.1 quirk)', () => {
    // 2 CPUs idle for 0.1 s: Δidle = 0.2 s → 100 − 100·0.2/(0.2+0.1) = 33.33 %
    expect(hostCpuUsedPct(cpuTimes(10, 5, 100), cpuTimes(10, 5, 100.2))).toBeCloseTo(100 / 3, 9);
  });

  it('reads an idle 2-CPU host as 4.76 % over a 1-s interval: the bias shrinks as the interval grows', () => {
    // Δidle = 2 s → 100 − 200/2.1 = 4.7619 %
    expect(hostCpuUsedPct(cpuTimes(10, 5, 100), cpuTimes(10, 5, 102))).toBeCloseTo(100 - 200 / 2.1, 9);
  });

  it('reads an idle 12-thread host as about 8 % over 0.1 s', () => {
    // Δidle = 1.2 → 100 − 120/1.3 = 7.69 %
    expect(hostCpuUsedPct(cpuTimes(0, 0, 0), cpuTimes(0, 0, 1.2))).toBeCloseTo(100 - 120 / 1.3, 9);
  });

  it('ignores nice, iowait and the other fields, as psutil user/system/idle do', () => {
    // Δuser 0.1, Δsystem 0.05, Δidle 0.05 → 100 − 5/0.3 = 83.33 %, although nice and iowait also moved
    expect(hostCpuUsedPct(cpuTimes(10, 5, 100), cpuTimes(10.1, 5.05, 100.05))).toBeCloseTo(100 - 5 / 0.3, 9);
  });
});

describe('flareFormulasBlock', () => {
  // GPU device memory, 100 ticks: 91 × 3000, 3 × 4000, 2 × 9000 (a spike), 1 × 5000, 3 unknown.
  const gpuTicks = [
    ...Array(91).fill(3000),
    ...Array(3).fill(4000),
    9000,
    9000,
    5000,
    null,
    null,
    null,
  ].map((dev: number | null, i) => ({ t: i * 0.1, dev }));
  // Host: 4 ticks of a 2-CPU host, 0.1 s apart.
  //   pair 1: Δidle 0.2 only              → 33.333 %
  //   pair 2: Δuser 0.2 only              → 100 %
  //   pair 3: Δu 0.1, Δs 0.05, Δi 0.05    → 83.333 %
  const nodes = [
    nodeSample(0, cpuTimes(10, 5, 100), 1000.4),
    nodeSample(0.1, cpuTimes(10, 5, 100.2), 1000.6),
    nodeSample(0.2, cpuTimes(10.2, 5, 100.2), 2000.2),
    nodeSample(0.3, cpuTimes(10.3, 5.05, 100.25), 1500),
  ];

  it('gives sums × nominal interval, stable max and plain max', () => {
    const block = flareFormulasBlock(runSamples(gpuTicks), nodes, 100);
    // GPU: 91·3000 + 3·4000 + 2·9000 + 5000 = 273000 + 12000 + 18000 + 5000 = 308000 MiB → × 0.1 s = 30800 MiB·s.
    // 97 known values: 2 % of 97 = 1.94, so 9000 (count 2) passes too: stable max = 9000 here.
    expect(block.nominalIntervalSeconds).toBe(0.1);
    expect(block.sampleCount).toBe(100);
    expect(block.aucGpuMiBs).toBeCloseTo(30800, 6);
    expect(block.maxGpuMiB).toBe(9000);
    expect(block.maxGpuStableMiB).toBe(9000);
    // CPU: (33.333 + 100 + 83.333) × 0.1 = 21.667 %·s; stable max over rounded 33, 100, 83 (3 values, each 33 %) = 100
    expect(block.aucCpuPctS).toBeCloseTo((100 / 3 + 100 + (100 - 5 / 0.3)) * 0.1, 9);
    expect(block.maxCpuPct).toBeCloseTo(100, 9);
    expect(block.maxCpuStablePct).toBe(100);
    // RAM: (1000.4 + 1000.6 + 2000.2 + 1500) × 0.1 = 550.12 MiB·s; max 2000.2; stable (rounded) 2000
    expect(block.aucRamMiBs).toBeCloseTo(550.12, 9);
    expect(block.maxRamMiB).toBe(2000.2);
    expect(block.maxRamStableMiB).toBe(2000);
  });

  it('drops a 2 % spike from the stable max once the trace is long enough', () => {
    // Replace the 3 unknown ticks by 3000: 100 known values, 9000 has count 2 = 2 % (not more) → stable max 4000
    const full = gpuTicks.map((k) => ({ ...k, dev: k.dev ?? 3000 }));
    const block = flareFormulasBlock(runSamples(full), [], 100);
    expect(block.maxGpuStableMiB).toBe(4000);
    expect(block.maxGpuMiB).toBe(9000);
    expect(block.aucGpuMiBs).toBeCloseTo((308000 + 9000) * 0.1, 6);
  });

  it('is null where there is no data', () => {
    const block = flareFormulasBlock([], [], 100);
    expect(block).toEqual({
      nominalIntervalSeconds: 0.1,
      sampleCount: 0,
      aucGpuMiBs: null,
      maxGpuStableMiB: null,
      maxGpuMiB: null,
      aucCpuPctS: null,
      maxCpuStablePct: null,
      maxCpuPct: null,
      aucRamMiBs: null,
      maxRamStableMiB: null,
      maxRamMiB: null,
    });
    // One node sample: RAM exists, but no CPU pair yet.
    const one = flareFormulasBlock([], [nodes[0]], 100);
    expect(one.aucCpuPctS).toBeNull();
    expect(one.aucRamMiBs).toBeCloseTo(100.04, 9);
  });

  it('makes n − 1 CPU values from n host samples', () => {
    expect(hostCpuUsedPctSeries(nodes)).toHaveLength(3);
  });
});
