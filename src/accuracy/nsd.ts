// Normalised surface Dice of one organ, as the FLARE evaluation computes it (DeepMind's surface
// distance metrics): the share of both surfaces, by area, that lies within the organ's tolerance of
// the other surface. Pure.
//
// Surfaces are the corners of the voxel grid whose 2×2×2 neighbourhood the boundary passes through
// (surface.ts); each carries the area marching cubes gives its neighbourhood at this spacing
// (surfel-table.ts). A corner's distance to the other surface is the exact anisotropic distance to its
// nearest surface corner (edt.ts); "within" is ≤, so a distance exactly at the tolerance counts. The
// sums are taken as the official code takes them (the (distance, area) pairs sorted ascending, then
// numpy's pairwise summation); a code's area may still differ from numpy's in its last bit (its BLAS
// may fuse the norm's multiply-adds), which only a value exactly halfway between two 4-decimal
// figures could show.
import { nearestFeature, type NearestFeature } from './edt.js';
import type { Box } from './overlap.js';
import { Scratch } from './scratch.js';
import { cornerCodes, surfaceCorners } from './surface.js';
import { SURFEL_AREA_VECTORS } from './surfel-table.js';

/** Area (mm²) of each code's surface at this spacing: Σ |(n0·s1·s2, n1·s0·s2, n2·s0·s1)| over its triangles. */
export function surfelAreas(spacingMm: readonly [number, number, number]): Float64Array {
  const [s0, s1, s2] = spacingMm;
  const out = new Float64Array(256);
  for (let code = 0; code < 256; code++) {
    let sum = 0;
    for (const [n0, n1, n2] of SURFEL_AREA_VECTORS[code]) {
      const a = n0 * s1 * s2;
      const b = n1 * s0 * s2;
      const c = n2 * s0 * s1;
      sum += Math.sqrt(a * a + b * b + c * c);
    }
    out[code] = sum;
  }
  return out;
}

/** numpy's pairwise summation (np.sum of a float64 array): 8 partial sums per block of 128, halves above. */
export function pairwiseSum(xs: Float64Array, from = 0, to = xs.length): number {
  const n = to - from;
  if (n < 8) {
    let s = 0;
    for (let i = from; i < to; i++) s += xs[i];
    return s;
  }
  if (n <= 128) {
    const r = [xs[from], xs[from + 1], xs[from + 2], xs[from + 3], xs[from + 4], xs[from + 5], xs[from + 6], xs[from + 7]];
    let i = from + 8;
    for (; i < to - (n % 8); i += 8) for (let k = 0; k < 8; k++) r[k] += xs[i + k];
    let s = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < to; i++) s += xs[i];
    return s;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(xs, from, from + half) + pairwiseSum(xs, from + half, to);
}

/**
 * Each surface corner of `mine` with its area and its distance to `other`'s surface, sorted as the
 * official code sorts them (by distance, then area).
 */
function distancesToOther(mineCodes: Uint8Array, other: NearestFeature, areas: Float64Array, areaRank: Uint8Array): { distanceMm: Float64Array; areaMm2: Float64Array } {
  let n = 0;
  for (let v = 0; v < mineCodes.length; v++) if (mineCodes[v] !== 0 && mineCodes[v] !== 255) n++;
  const d = new Float64Array(n);
  const codes = new Uint8Array(n);
  for (let v = 0, k = 0; v < mineCodes.length; v++) {
    const code = mineCodes[v];
    if (code === 0 || code === 255) continue;
    d[k] = other.distanceMmAt(v);
    codes[k++] = code;
  }
  const order = sortByDistanceThenArea(d, codes, areaRank);
  const distanceMm = new Float64Array(n);
  const areaMm2 = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    distanceMm[k] = d[order[k]];
    areaMm2[k] = areas[codes[order[k]]];
  }
  return { distanceMm, areaMm2 };
}

/**
 * The order of the (distance, area) pairs, ascending by distance, then by area: a stable counting
 * sort by the area's rank (one of at most 256 values), then a stable radix sort by the distance's 8
 * bytes, one byte a pass (a non-negative double's bits sort as its value does). Linear, where a
 * comparison sort of 70 000 pairs cost tens of milliseconds. Byte order: little-endian (x86-64, arm64).
 */
export function sortByDistanceThenArea(d: Float64Array, codes: Uint8Array, areaRank: Uint8Array): Uint32Array {
  const n = d.length;
  let order = new Uint32Array(n);
  let next = new Uint32Array(n);
  const count = new Uint32Array(257);
  for (let k = 0; k < n; k++) count[areaRank[codes[k]] + 1]++;
  for (let r = 1; r < 257; r++) count[r] += count[r - 1];
  for (let k = 0; k < n; k++) order[count[areaRank[codes[k]]]++] = k;
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  for (let byte = 0; byte < 8; byte++) {
    count.fill(0);
    for (let k = 0; k < n; k++) count[bytes[8 * k + byte] + 1]++;
    if (count.some((c) => c === n)) continue; // one value for every pair: this byte orders nothing
    for (let r = 1; r < 257; r++) count[r] += count[r - 1];
    for (let k = 0; k < n; k++) {
      const at = order[k];
      next[count[bytes[8 * at + byte]]++] = at;
    }
    [order, next] = [next, order];
  }
  return order;
}

/** The rank of each code's area among the distinct areas (the secondary sort key). */
function areaRanks(areas: Float64Array): Uint8Array {
  const distinct = [...new Set(areas)].sort((x, y) => x - y);
  return Uint8Array.from(areas, (a) => distinct.indexOf(a));
}

/**
 * Surface Dice at `toleranceMm` of the masks `inside(gt)` and `inside(pred)` restricted to `box` (the
 * box of both masks together; voxels outside it are background: the slice-range rule cuts with it).
 * Both surfaces empty: NaN (the caller's rules decide before ever asking).
 */
export function surfaceDice(
  gt: Uint8Array,
  pred: Uint8Array,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  box: Box,
  label: number,
  toleranceMm: number,
  scratch: Scratch = new Scratch(),
): number {
  const is = (l: number): boolean => l === label;
  const g = cornerCodes(gt, shape, box, is, scratch, 'gt-corners');
  const p = cornerCodes(pred, shape, box, is, scratch, 'pred-corners');
  const areas = surfelAreas(spacingMm);
  const ranks = areaRanks(areas);
  // One transform at a time on the scratch: the second overwrites the first.
  const gtSide = distancesToOther(g.codes, nearestFeature(surfaceCorners(p, scratch), g.shape, spacingMm, scratch), areas, ranks);
  const predSide = distancesToOther(p.codes, nearestFeature(surfaceCorners(g, scratch), g.shape, spacingMm, scratch), areas, ranks);
  const within = (d: Float64Array): number => {
    let n = 0;
    while (n < d.length && d[n] <= toleranceMm) n++;
    return n;
  };
  const overlapGt = pairwiseSum(gtSide.areaMm2, 0, within(gtSide.distanceMm));
  const overlapPred = pairwiseSum(predSide.areaMm2, 0, within(predSide.distanceMm));
  return (overlapGt + overlapPred) / (pairwiseSum(gtSide.areaMm2) + pairwiseSum(predSide.areaMm2));
}
