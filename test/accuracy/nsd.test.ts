// The order the surface Dice sums its areas in (nsd.ts): the linear sort equals a comparison sort by
// (distance, area) on random pairs with many ties, Infinity (the other surface empty) and 0.
import { describe, expect, it } from 'vitest';
import { sortByDistanceThenArea } from '../../src/accuracy/nsd.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('sortByDistanceThenArea', () => {
  it('orders (distance, area) as a comparison sort does', () => {
    const random = rng(3);
    for (const n of [0, 1, 7, 300, 5000]) {
      // Areas by code: a few distinct values, several codes sharing one.
      const areas = Float64Array.from({ length: 256 }, (_, c) => [0.5, 0.25, 1.1, 0.5, 0.7][c % 5]);
      const distinct = [...new Set(areas)].sort((x, y) => x - y);
      const rank = Uint8Array.from(areas, (a) => distinct.indexOf(a));
      const d = Float64Array.from({ length: n }, () => [0, Infinity, Math.sqrt(Math.floor(random() * 40)) * 0.8, random() * 1e-3][Math.floor(random() * 4)]);
      const codes = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      const got = [...sortByDistanceThenArea(d, codes, rank)].map((k) => [d[k], areas[codes[k]]]);
      const want = [...Array(n).keys()].map((k) => [d[k], areas[codes[k]]]).sort((p, q) => (p[0] === q[0] ? p[1] - q[1] : p[0] < q[0] ? -1 : 1));
      expect(got, `n=${n}`).toEqual(want);
    }
  });
});
