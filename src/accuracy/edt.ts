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

/** The feature transform behind distanceTransform: each voxel's nearest feature, distances on demand. */
export function nearestFeature(feature: Uint8Array, shape: readonly [number, number, number], spacingMm: readonly [number, number, number]): NearestFeature {
  const [n0, n1, n2] = shape;
  const n = n0 * n1 * n2;
  const sq = new Float64Array(n).fill(Infinity);
  // Each voxel's nearest feature as its index (one array, not three: the passes along axes 1 and 2
  // stride through memory, and fewer arrays to gather and scatter was most of their time).
  const feat = new Int32Array(n).fill(-1);
  for (let v = 0; v < n; v++) {
    if (feature[v] === 0) continue;
    sq[v] = 0;
    feat[v] = v;
  }
  const longest = Math.max(n0, n1, n2);
  const f = new Float64Array(longest);
  const vIdx = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const src = new Int32Array(longest);
  const pass = (len: number, stride: number, starts: Int32Array, s: number): void => {
    const s2 = s * s;
    for (const base of starts) {
      for (let q = 0; q < len; q++) {
        const at = base + q * stride;
        f[q] = sq[at];
        src[q] = feat[at];
      }
      // The lower envelope of the parabolas f(q) + s²(p − q)² over the positions that have a feature.
      let k = -1;
      for (let q = 0; q < len; q++) {
        if (f[q] === Infinity) continue;
        let zq = -Infinity;
        while (k >= 0) {
          const r = vIdx[k];
          zq = (f[q] + s2 * q * q - (f[r] + s2 * r * r)) / (2 * s2 * (q - r));
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
      for (let p = 0; p < len; p++) {
        while (z[j + 1] < p) j++;
        const q = vIdx[j];
        const d = s * (p - q);
        const at = base + p * stride;
        sq[at] = f[q] + d * d;
        feat[at] = src[q];
      }
    }
  };
  /** The first voxel of every line along an axis: the other two coordinates run over their ranges. */
  const lines = (outer: number, inner: number, outerStride: number, innerStride: number): Int32Array => {
    const out = new Int32Array(outer * inner);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) out[o * inner + i] = o * outerStride + i * innerStride;
    return out;
  };
  pass(n0, 1, lines(n2, n1, n0 * n1, n0), spacingMm[0]);
  pass(n1, n0, lines(n2, n0, n0 * n1, 1), spacingMm[1]);
  pass(n2, n0 * n1, lines(n1, n0, n0, 1), spacingMm[2]);
  const [s0, s1, s2] = spacingMm;
  return {
    distanceMmAt(v: number): number {
      const w = feat[v];
      if (w < 0) return Infinity;
      const di = ((v % n0) - (w % n0)) * s0;
      const dj = ((Math.floor(v / n0) % n1) - (Math.floor(w / n0) % n1)) * s1;
      const dk = (Math.floor(v / (n0 * n1)) - Math.floor(w / (n0 * n1))) * s2;
      return Math.sqrt(di * di + dj * dj + dk * dk);
    },
  };
}
