// Per-organ overlap of a prediction with its ground truth, the FLARE accuracy evaluation's DSC, from
// one pass over the two label volumes. Pure.
//
// The pass counts, per label and per axial slice (array axis 2: the affine is never applied), the
// ground-truth voxels, the predicted voxels and the voxels both have, and each label's bounding box
// over both masks. From those counts every organ's DSC follows, with the slice-range rule of the
// aorta, IVC and esophagus (their masks cut to the ground truth's slices of that label, from its
// lowest labelled slice up to but excluding its highest) applied as a sum over a range of slices.

/** An organ of a challenge (a profile's `accuracy.organs`): its label value, its CSV name, its NSD tolerance (mm), whether its slice range is cut. */
export interface Organ {
  label: number;
  name: string;
  toleranceMm: number;
  /** Cut both masks to the ground truth's axial range of the label (half-open: its top slice is dropped). */
  cutToGtSlices: boolean;
}

/** Voxel ranges [from, to) along the three array axes. */
export type Box = [[number, number], [number, number], [number, number]];

/** What one pass over the two volumes knows of a label. */
export interface LabelCounts {
  /** Per slice k: ground-truth voxels, predicted voxels, voxels in both. */
  gtPerSlice: Float64Array;
  predPerSlice: Float64Array;
  bothPerSlice: Float64Array;
  /** The box of both masks together (the whole volume's), null when neither has the label. */
  box: Box | null;
  /** The ground truth's lowest and highest slice with the label, null when it has none. */
  gtSlices: [number, number] | null;
}

/**
 * Counts for every label in `labels` (values 1–255) in one pass. The volumes have one shape; the
 * caller has checked it. Voxels with other labels are ignored, as the official evaluation does.
 */
export function countLabels(gt: Uint8Array, pred: Uint8Array, shape: readonly [number, number, number], labels: readonly number[]): Map<number, LabelCounts> {
  const [n0, n1, n2] = shape;
  const wanted = new Uint8Array(256);
  for (const l of labels) wanted[l] = 1;
  const per = new Map<number, LabelCounts>();
  const lo = new Int32Array(256 * 3).fill(2 ** 30);
  const hi = new Int32Array(256 * 3).fill(-1);
  const gtLo = new Int32Array(256).fill(2 ** 30);
  const gtHi = new Int32Array(256).fill(-1);
  const counts = labels.map(() => ({ gt: new Float64Array(n2), pred: new Float64Array(n2), both: new Float64Array(n2) }));
  const slot = new Int16Array(256).fill(-1);
  labels.forEach((l, i) => (slot[l] = i));
  const see = (l: number, i: number, j: number, k: number): void => {
    const b = l * 3;
    if (i < lo[b]) lo[b] = i;
    if (i > hi[b]) hi[b] = i;
    if (j < lo[b + 1]) lo[b + 1] = j;
    if (j > hi[b + 1]) hi[b + 1] = j;
    if (k < lo[b + 2]) lo[b + 2] = k;
    if (k > hi[b + 2]) hi[b + 2] = k;
  };
  // Both volumes as 32-bit words (where aligned) to step over 8 voxels of background at a time: most
  // of an abdominal CT is background.
  const words = (a: Uint8Array): Uint32Array | null => (a.byteOffset % 4 === 0 ? new Uint32Array(a.buffer, a.byteOffset, a.length >> 2) : null);
  const g32 = words(gt);
  const p32 = words(pred);
  const skip = g32 !== null && p32 !== null;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      const row = n0 * (j + n1 * k);
      for (let i = 0; i < n0; i++) {
        const v = row + i;
        if (skip && (v & 7) === 0 && i + 8 <= n0) {
          const w = v >> 2;
          if ((g32[w] | g32[w + 1] | p32[w] | p32[w + 1]) === 0) {
            i += 7;
            continue;
          }
        }
        const a = gt[v];
        const p = pred[v];
        if (a !== 0 && wanted[a] === 1) {
          const c = counts[slot[a]];
          c.gt[k]++;
          if (p === a) c.both[k]++;
          see(a, i, j, k);
          if (k < gtLo[a]) gtLo[a] = k;
          if (k > gtHi[a]) gtHi[a] = k;
        }
        if (p !== 0 && wanted[p] === 1) {
          counts[slot[p]].pred[k]++;
          if (p !== a) see(p, i, j, k);
        }
      }
    }
  }
  labels.forEach((l, i) => {
    const b = l * 3;
    per.set(l, {
      gtPerSlice: counts[i].gt,
      predPerSlice: counts[i].pred,
      bothPerSlice: counts[i].both,
      box: hi[b] < 0 ? null : [[lo[b], hi[b] + 1], [lo[b + 1], hi[b + 1] + 1], [lo[b + 2], hi[b + 2] + 1]],
      gtSlices: gtHi[l] < 0 ? null : [gtLo[l], gtHi[l]],
    });
  });
  return per;
}

/** The slices [from, to) an organ is scored on: all of them, or its cut range (empty when the ground truth has one slice). */
export function scoredSlices(organ: Organ, c: LabelCounts, nSlices: number): [number, number] {
  if (!organ.cutToGtSlices || c.gtSlices === null) return [0, nSlices];
  return [c.gtSlices[0], c.gtSlices[1]];
}

/** Voxel counts over a range of slices. */
export function sumSlices(perSlice: Float64Array, [from, to]: [number, number]): number {
  let s = 0;
  for (let k = from; k < to; k++) s += perSlice[k];
  return s;
}

/** 2|A∩B| / (|A| + |B|); null when both are empty (the caller's rule decides: FLARE scores 1). */
export function dice(gtVoxels: number, predVoxels: number, bothVoxels: number): number | null {
  return gtVoxels + predVoxels === 0 ? null : (2 * bothVoxels) / (gtVoxels + predVoxels);
}

/**
 * numpy's round(x, decimals): x scaled by 10^decimals, rounded half to even (rint), scaled back. At 4
 * decimals 49/160 (0.30625) gives 0.3062 where rounding half up gives 0.3063.
 */
export function roundLikeNumpy(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const y = x * f;
  const r = Math.round(y);
  // Math.round rounds .5 up: a tie goes to the even neighbour instead.
  const even = r - y === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return even / f;
}
