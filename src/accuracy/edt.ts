// Exact Euclidean distance transform with anisotropic voxel spacing, in linear time: for every voxel of
// a 3-D grid, the distance (mm) to the nearest "feature" voxel. The surface Dice of the FLARE
// evaluation measures each surface point's distance to the other mask's surface this way (scipy's
// distance_transform_edt with `sampling`). Pure.
//
// Felzenszwalb and Huttenlocher's lower envelope of parabolas, one axis after the other (axis 0, 1,
// then 2), each voxel carrying the coordinates of the feature it found. The distance is then computed
// from those coordinates as scipy computes it from its feature transform: sqrt((Δi·s0)² + (Δj·s1)² +
// (Δk·s2)²) in float64, summed in that order, so a distance that is mathematically exactly a
// tolerance (a 5-mm slice against a 5-mm tolerance) comes out exactly equal to it.
import { Scratch } from './scratch.js';

export interface DistanceField {
  /** Distance of voxel (i, j, k) at i + n0 × (j + n1 × k) to the nearest feature (mm); Infinity without features. */
  distanceMm: Float64Array;
}

/** The nearest feature of every voxel; `distanceMmAt(v)` computes one voxel's distance from it (the surface Dice reads only its surface's). */
export interface NearestFeature {
  distanceMmAt(v: number): number;
}

/**
 * The distance of every voxel of a grid of `shape` to the nearest voxel with `feature[v] !== 0`.
 * Memory: 8 + 4 bytes per voxel besides the input (the squared distance and the feature's index).
 */
export function distanceTransform(feature: Uint8Array, shape: readonly [number, number, number], spacingMm: readonly [number, number, number]): DistanceField {
  const nearest = nearestFeature(feature, shape, spacingMm);
  const distanceMm = new Float64Array(feature.length);
  for (let v = 0; v < distanceMm.length; v++) distanceMm[v] = nearest.distanceMmAt(v);
  return { distanceMm };
}

/** Lines gathered side by side in the passes along the strided axes: 16 neighbouring lines share their cache lines. */
const BLOCK = 16;

/**
 * The feature transform behind distanceTransform: each voxel's nearest feature, distances on demand.
 * Its arrays are `scratch`'s: the next transform on the same scratch overwrites them.
 */
export function nearestFeature(
  feature: Uint8Array,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  scratch: Scratch = new Scratch(),
): NearestFeature {
  const [n0, n1, n2] = shape;
  const n = n0 * n1 * n2;
  // Each voxel's squared distance and nearest feature as its index (one array, not three: fewer
  // arrays to gather and scatter in the strided passes).
  const grid: Grid = { sq: scratch.get('f64', 'edt-sq', n), feat: scratch.get('i32', 'edt-feat', n) };
  alongAxis0(feature, n0, n, spacingMm[0], grid);
  const longest = Math.max(n1, n2);
  const work: Work = {
    f: scratch.get('f64', 'edt-f', BLOCK * longest),
    src: scratch.get('i32', 'edt-src', BLOCK * longest),
    vIdx: scratch.get('i32', 'edt-v', longest),
    z: scratch.get('f64', 'edt-z', longest + 1),
  };
  const slab = n0 * n1;
  for (let k = 0; k < n2; k++) for (let i = 0; i < n0; i += BLOCK) envelopes(grid, work, k * slab + i, Math.min(BLOCK, n0 - i), n1, n0, spacingMm[1], true);
  // The last pass keeps only the features: the distances are computed from them.
  for (let j = 0; j < n1; j++) for (let i = 0; i < n0; i += BLOCK) envelopes(grid, work, j * n0 + i, Math.min(BLOCK, n0 - i), n2, slab, spacingMm[2], false);
  const feat = grid.feat;
  const [s0, s1, s2] = spacingMm;
  return {
    distanceMmAt(v: number): number {
      const w = feat[v];
      if (w < 0) return Infinity;
      const di = ((v % n0) - (w % n0)) * s0;
      const dj = ((Math.floor(v / n0) % n1) - (Math.floor(w / n0) % n1)) * s1;
      const dk = (Math.floor(v / slab) - Math.floor(w / slab)) * s2;
      return Math.sqrt(di * di + dj * dj + dk * dk);
    },
  };
}

interface Grid {
  sq: Float64Array;
  feat: Int32Array;
}

/** Scratch of the strided passes: a block of lines side by side (f, src), one line's envelope (vIdx, z). */
interface Work {
  f: Float64Array;
  src: Int32Array;
  vIdx: Int32Array;
  z: Float64Array;
}

/**
 * The first pass, along the contiguous axis 0, where every value is 0 (a feature) or Infinity: each
 * voxel takes its nearest feature on its line. Between two features the split is where the general
 * envelope puts it (the parabolas' intersection, computed by the same float expression, the left
 * feature taking p ≤ z), so the result equals that of the envelope to the bit, at a fraction of its cost.
 */
function alongAxis0(feature: Uint8Array, n0: number, n: number, s: number, { sq, feat }: Grid): void {
  const s2 = s * s;
  for (let base = 0; base < n; base += n0) {
    let prev = -1;
    for (let q = 0; q < n0; q++) {
      if (feature[base + q] === 0) continue;
      const z = prev < 0 ? -1 : (s2 * q * q - s2 * prev * prev) / (2 * s2 * (q - prev));
      for (let p = prev + 1; p < q; p++) {
        const near = p <= z ? prev : q;
        const d = s * (p - near);
        sq[base + p] = d * d;
        feat[base + p] = base + near;
      }
      sq[base + q] = 0;
      feat[base + q] = base + q;
      prev = q;
    }
    if (prev < 0) {
      sq.fill(Infinity, base, base + n0);
      feat.fill(-1, base, base + n0);
      continue;
    }
    for (let p = prev + 1; p < n0; p++) {
      const d = s * (p - prev);
      sq[base + p] = d * d;
      feat[base + p] = base + prev;
    }
  }
}

/**
 * The lower envelope of the parabolas f(q) + s²(p − q)² along the lines that start at base … base +
 * width − 1 (neighbours in memory) and step by `stride`. The lines are first copied side by side, so
 * the strided reads and writes touch each cache line once for the whole block.
 */
function envelopes({ sq, feat }: Grid, { f, src, vIdx, z }: Work, base: number, width: number, len: number, stride: number, s: number, keepSq: boolean): void {
  for (let q = 0, at = base; q < len; q++, at += stride) {
    for (let b = 0; b < width; b++) {
      f[b * len + q] = sq[at + b];
      src[b * len + q] = feat[at + b];
    }
  }
  const s2 = s * s;
  for (let b = 0; b < width; b++) {
    const off = b * len;
    let k = -1;
    for (let q = 0; q < len; q++) {
      const fq = f[off + q];
      if (fq === Infinity) continue;
      let zq = -Infinity;
      while (k >= 0) {
        const r = vIdx[k];
        zq = (fq + s2 * q * q - (f[off + r] + s2 * r * r)) / (2 * s2 * (q - r));
        if (zq > z[k]) break;
        k--;
      }
      k++;
      vIdx[k] = q;
      z[k] = k === 0 ? -Infinity : zq;
      z[k + 1] = Infinity;
    }
    if (k < 0) continue; // no feature on this line: it stays as it is (Infinity)
    let j = 0;
    for (let p = 0, at = base + b; p < len; p++, at += stride) {
      while (z[j + 1] < p) j++;
      const q = vIdx[j];
      if (keepSq) {
        const d = s * (p - q);
        sq[at] = f[off + q] + d * d;
      }
      feat[at] = src[off + q];
    }
  }
}
