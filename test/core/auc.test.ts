import { describe, expect, it } from 'vitest';
import {
  areaUnder,
  clippedAreaAbove,
  curveFigures,
  interpolateLinear,
  isKnown,
  segmentAreaAbove,
  type CurvePoint,
} from '../../src/core/auc.js';

const pts = (...pairs: [number, number | null][]): CurvePoint[] => pairs.map(([tSeconds, value]) => ({ tSeconds, value }));

describe('segmentAreaAbove', () => {
  it('integrates a segment wholly above the threshold as a trapezoid of the excess', () => {
    // excess 1000 → 3000 over 2 s: (1000 + 3000)/2 × 2 = 4000
    expect(segmentAreaAbove(2, 3048, 5048, 2048)).toBe(4000);
  });

  it('gives 0 for a segment wholly at or below the threshold', () => {
    expect(segmentAreaAbove(5, 100, 2048, 2048)).toBe(0);
    expect(segmentAreaAbove(5, 2048, 2048, 2048)).toBe(0);
  });

  it('integrates only the part above when the segment crosses upwards', () => {
    // excess −1000 → +2000 over 2 s: crossing at 1000/3000 = 1/3 of the segment, so 2/3·2 = 4/3 s above;
    // triangle 0.5 × 4/3 × 2000 = 1333.33… (a trapezoid of clipped ends would say (0+2000)/2×2 = 2000)
    expect(segmentAreaAbove(2, 1048, 4048, 2048)).toBeCloseTo(4000 / 3, 9);
  });

  it('integrates only the part above when the segment crosses downwards', () => {
    // excess +1000 → −2000 over 3 s: above for 1000/3000 × 3 = 1 s; triangle 0.5 × 1 × 1000 = 500
    expect(segmentAreaAbove(3, 3048, 48, 2048)).toBeCloseTo(500, 9);
  });

  it('treats a zero or negative duration as no area', () => {
    expect(segmentAreaAbove(0, 9000, 9000, 0)).toBe(0);
    expect(segmentAreaAbove(-1, 9000, 9000, 0)).toBe(0);
  });
});

describe('clippedAreaAbove', () => {
  it('sums clipped segments over irregular intervals', () => {
    // threshold 10; excess: −10, +10, +10, −10 at t = 0, 0.5, 2, 2.25
    // [0, 0.5]: up-crossing, 10²/(10+10)/2 × 0.5 = 1.25
    // [0.5, 2]: 10 × 1.5 = 15
    // [2, 2.25]: down-crossing, 10²/20/2 × 0.25 = 0.625
    const curve = pts([0, 0], [0.5, 20], [2, 20], [2.25, 0]);
    expect(clippedAreaAbove(curve, 10)).toBeCloseTo(1.25 + 15 + 0.625, 12);
  });

  it('skips every segment that touches an unknown value', () => {
    // [0,1]: 1000 × 1 = 1000; [1,2] and [2,3] touch null; [3,4]: 2000 × 1 = 2000
    const curve = pts([0, 3048], [1, 3048], [2, null], [3, 4048], [4, 4048]);
    expect(clippedAreaAbove(curve, 2048)).toBe(3000);
  });

  it('treats NaN and Infinity as gaps, never as numbers', () => {
    const curve = pts([0, 10], [1, Number.NaN], [2, 10], [3, Number.POSITIVE_INFINITY], [4, 10], [5, 10]);
    // only [4,5] counts: 10 × 1 = 10
    expect(clippedAreaAbove(curve, 0)).toBe(10);
  });

  it('gives 0 for fewer than two points', () => {
    expect(clippedAreaAbove([], 0)).toBe(0);
    expect(clippedAreaAbove(pts([1, 5000]), 0)).toBe(0);
  });
});

describe('areaUnder', () => {
  it('is the plain trapezoid rule, no clipping', () => {
    // (100+300)/2×0.5 = 100; 300×1.5 = 450; (300+200)/2×0.25 = 62.5
    expect(areaUnder(pts([0.5, 100], [1, 300], [2.5, 300], [2.75, 200]))).toBeCloseTo(612.5, 12);
  });

  it('skips gaps', () => {
    expect(areaUnder(pts([0, 1], [1, null], [2, 1], [4, 3]))).toBe(4); // only [2,4]: (1+3)/2×2
  });
});

describe('curveFigures', () => {
  it('reports area, max and gap counts', () => {
    const f = curveFigures(pts([0, 3048], [1, null], [2, 5048], [3, 5048]), 2048);
    expect(f).toEqual({ area: 3000, max: 5048, knownCount: 3, unknownCount: 1 });
  });

  it('gives null area and max when nothing is known', () => {
    expect(curveFigures(pts([0, null], [1, null]), 2048)).toEqual({ area: null, max: null, knownCount: 0, unknownCount: 2 });
    expect(curveFigures([], null)).toEqual({ area: null, max: null, knownCount: 0, unknownCount: 0 });
  });

  it('uses the plain trapezoid without a threshold', () => {
    expect(curveFigures(pts([0, -2], [1, -2]), null).area).toBe(-2);
    expect(curveFigures(pts([0, -2], [1, -2]), 0).area).toBe(0);
  });
});

describe('small helpers', () => {
  it('interpolates linearly and guards a zero-length span', () => {
    expect(interpolateLinear(1.5, 200, 2.5, 400, 2)).toBe(300);
    expect(interpolateLinear(1, 5, 1, 7, 1)).toBe(7);
  });

  it('knows which values are usable', () => {
    expect([0, -1, null, undefined, Number.NaN, Number.NEGATIVE_INFINITY].map(isKnown)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});
