// The exact distance transform against brute force on random grids with anisotropic spacing: every
// distance equal to the bit to the nearest feature's, computed as scipy computes it; a slice-spacing
// distance equal to a tolerance stays exactly that.
import { describe, expect, it } from 'vitest';
import { distanceTransform } from '../../src/accuracy/edt.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function bruteForce(feature: Uint8Array, [n0, n1, n2]: [number, number, number], [s0, s1, s2]: [number, number, number]): Float64Array {
  const out = new Float64Array(n0 * n1 * n2).fill(Infinity);
  const feats: [number, number, number][] = [];
  for (let v = 0; v < feature.length; v++) if (feature[v]) feats.push([v % n0, Math.floor(v / n0) % n1, Math.floor(v / (n0 * n1))]);
  for (let v = 0; v < out.length; v++) {
    const [i, j, k] = [v % n0, Math.floor(v / n0) % n1, Math.floor(v / (n0 * n1))];
    for (const [a, b, c] of feats) {
      const [di, dj, dk] = [(i - a) * s0, (j - b) * s1, (k - c) * s2];
      out[v] = Math.min(out[v], Math.sqrt(di * di + dj * dj + dk * dk));
    }
  }
  return out;
}

describe('distanceTransform', () => {
  it('equals brute force on random grids, spacings and densities', () => {
    const random = rng(7);
    for (let t = 0; t < 40; t++) {
      const shape: [number, number, number] = [1 + Math.floor(random() * 9), 1 + Math.floor(random() * 9), 1 + Math.floor(random() * 7)];
      const spacing: [number, number, number] = [Math.fround(0.5 + random() * 2), Math.fround(0.5 + random() * 2), [1, 2.5, 5, Math.fround(0.8)][t % 4]];
      const density = [0.01, 0.05, 0.3, 0.9][t % 4];
      const feature = Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () => (random() < density ? 1 : 0));
      const got = distanceTransform(feature, shape, spacing).distanceMm;
      const want = bruteForce(feature, shape, spacing);
      expect([...got], JSON.stringify({ shape, spacing, density })).toEqual([...want]);
    }
  });

  it('one slice away at 5-mm slices is exactly 5 mm; no feature: Infinity everywhere', () => {
    const feature = new Uint8Array(4 * 4 * 3);
    feature[1 + 4 * 1] = 1; // (1, 1, 0)
    const d = distanceTransform(feature, [4, 4, 3], [0.8, 0.8, 5]).distanceMm;
    expect(d[1 + 4 * (1 + 4 * 1)]).toBe(5);
    expect(d[1 + 4 * (1 + 4 * 2)]).toBe(10);
    expect([...distanceTransform(new Uint8Array(8), [2, 2, 2], [1, 1, 1]).distanceMm].every((x) => x === Infinity)).toBe(true);
  });
});
