import { describe, expect, it } from 'vitest';
import { correctCounterResets, counterAtSeconds, intervalCorePct } from '../../src/core/cpu.js';
import { maxOrNull, stableMax, sum } from '../../src/core/stats.js';

const counter = (...pairs: [number, number][]) => pairs.map(([tSeconds, cpuSeconds]) => ({ tSeconds, cpuSeconds }));

describe('correctCounterResets', () => {
  it('leaves a monotone counter as it is', () => {
    const points = counter([1, 1], [2, 2], [3, 2]);
    expect(correctCounterResets(points)).toEqual({ points, resetCount: 0 });
  });

  it('adds the value read before a reset to everything after it', () => {
    // raw 1, 2, 0.5 (reset), 1.5, 0.25 (reset) → offsets 0, 0, 2, 2, 3.5 → 1, 2, 2.5, 3.5, 3.75
    const { points, resetCount } = correctCounterResets(counter([1, 1], [2, 2], [3, 0.5], [4, 1.5], [5, 0.25]));
    expect(points.map((p) => p.cpuSeconds)).toEqual([1, 2, 2.5, 3.5, 3.75]);
    expect(resetCount).toBe(2);
  });
});

describe('counterAtSeconds', () => {
  const points = counter([1, 0.5], [2, 1.5], [4, 2.5]);

  it('interpolates between readings', () => {
    expect(counterAtSeconds(points, 1.5)).toBe(1); // halfway 0.5 → 1.5
    expect(counterAtSeconds(points, 3)).toBe(2); // halfway 1.5 → 2.5
    expect(counterAtSeconds(points, 2)).toBe(1.5); // exactly on a reading
  });

  it('interpolates from zero at the run start before the first reading', () => {
    // (0 s, 0) → (1 s, 0.5): at 0.4 s, 0.2
    expect(counterAtSeconds(points, 0.4)).toBeCloseTo(0.2, 12);
    expect(counterAtSeconds(points, 0)).toBe(0);
  });

  it('never extrapolates past the last reading', () => {
    expect(counterAtSeconds(points, 100)).toBe(2.5);
    expect(counterAtSeconds([], 3)).toBe(0);
  });
});

describe('intervalCorePct', () => {
  it('is 100 × ΔcpuSeconds / Δt per pair, skipping zero-length pairs', () => {
    // (0.6−0.2)/0.5 = 80 %; pair at equal times skipped; (2.1−0.6)/1.5 = 100 %
    const u = intervalCorePct(counter([0.5, 0.2], [1, 0.6], [1, 0.6], [2.5, 2.1]));
    expect(u.map((x) => x.corePct)).toEqual([expect.closeTo(80, 9), expect.closeTo(100, 9)]);
    expect(u[1]).toMatchObject({ t0Seconds: 1, t1Seconds: 2.5 });
  });

  it('is empty for fewer than two readings', () => {
    expect(intervalCorePct(counter([1, 1]))).toEqual([]);
  });
});

describe('stableMax (FLARE22 "largest value in more than 2 % of samples")', () => {
  it('drops a spike seen in 2 % of the samples or fewer', () => {
    // 100 samples: 2 × 9000 is exactly 2 % (not more) → dropped; 3 × 4000 is 3 % → kept
    const values = [...Array(95).fill(3000), ...Array(3).fill(4000), 9000, 9000];
    expect(stableMax(values)).toBe(4000);
    expect(maxOrNull(values)).toBe(9000);
  });

  it('counts values after rounding to whole units', () => {
    // 999.6, 1000.4 and 1000.2 all count as 1000 (3 of 100 > 2 %); 1500.3 alone does not pass
    const values = [...Array(96).fill(10), 999.6, 1000.4, 1000.2, 1500.3];
    expect(stableMax(values)).toBe(1000);
  });

  it('is null when no value passes or there is nothing', () => {
    expect(stableMax(Array.from({ length: 100 }, (_, i) => i))).toBeNull();
    expect(stableMax([])).toBeNull();
  });

  it('keeps the plain max for short traces (one sample is already > 2 % of fewer than 50)', () => {
    expect(stableMax([1, 2, 7])).toBe(7);
  });
});

describe('sum / maxOrNull', () => {
  it('handles empty lists without NaN', () => {
    expect(sum([])).toBe(0);
    expect(maxOrNull([])).toBeNull();
    expect(sum([1, 2.5])).toBe(3.5);
  });
});
