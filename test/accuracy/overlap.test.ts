// One pass over two label volumes: per-label, per-slice counts and boxes; DSC from them, the
// aorta/IVC/esophagus slice range (top slice dropped), numpy's half-to-even rounding.
import { describe, expect, it } from 'vitest';
import { countLabels, dice, roundLikeNumpy, scoredSlices, sumSlices } from '../../src/accuracy/overlap.js';
import { loadProfile } from '../../src/scoring/challenge-profile-load.js';

const FLARE22_ORGANS = loadProfile('flare22').accuracy!.organs;

/** A volume of shape [4, 4, 5] with the given voxels (i, j, k) set to a label. */
function vol(voxels: [number, number, number, number][]): Uint8Array {
  const v = new Uint8Array(4 * 4 * 5);
  for (const [i, j, k, label] of voxels) v[i + 4 * (j + 4 * k)] = label;
  return v;
}

describe('countLabels and dice', () => {
  it('counts per slice, the box of both masks, the ground truth slices; other labels are ignored', () => {
    const gt = vol([[0, 0, 0, 1], [1, 0, 0, 1], [1, 1, 2, 1], [3, 3, 4, 7]]);
    const pred = vol([[1, 0, 0, 1], [2, 2, 3, 1], [0, 0, 0, 20]]);
    const c = countLabels(gt, pred, [4, 4, 5], [1, 2]).get(1)!;
    expect([...c.gtPerSlice]).toEqual([2, 0, 1, 0, 0]);
    expect([...c.predPerSlice]).toEqual([1, 0, 0, 1, 0]);
    expect([...c.bothPerSlice]).toEqual([1, 0, 0, 0, 0]);
    expect(c.box).toEqual([[0, 3], [0, 3], [0, 4]]);
    expect(c.gtSlices).toEqual([0, 2]);
    const all: [number, number] = [0, 5];
    // |A| = 3, |B| = 2, |A∩B| = 1: 2/5.
    expect(dice(sumSlices(c.gtPerSlice, all), sumSlices(c.predPerSlice, all), sumSlices(c.bothPerSlice, all))).toBe(0.4);
    expect(countLabels(gt, pred, [4, 4, 5], [1, 2]).get(2)).toMatchObject({ box: null, gtSlices: null });
    expect(dice(0, 0, 0)).toBeNull();
  });

  it('the aorta is scored on the ground truth slices from the lowest up to but not the highest', () => {
    const aorta = FLARE22_ORGANS.find((o) => o.name === 'Aorta')!;
    const gt = vol([[1, 1, 1, 5], [1, 1, 2, 5], [1, 1, 3, 5]]);
    const pred = vol([[1, 1, 0, 5], [1, 1, 1, 5], [1, 1, 3, 5], [2, 2, 3, 5]]);
    const c = countLabels(gt, pred, [4, 4, 5], [5]).get(5)!;
    const range = scoredSlices(aorta, c, 5);
    expect(range).toEqual([1, 3]); // slices 1 and 2; slice 3 (the top) and slice 0 are not scored
    // On slices 1–2: |A| = 2, |B| = 1 (slice 1), |A∩B| = 1: 2/3.
    expect(dice(sumSlices(c.gtPerSlice, range), sumSlices(c.predPerSlice, range), sumSlices(c.bothPerSlice, range))).toBe(2 / 3);
    // A ground truth on one slice: an empty range (the official script cannot score it).
    const one = countLabels(vol([[1, 1, 2, 5]]), pred, [4, 4, 5], [5]).get(5)!;
    expect(scoredSlices(aorta, one, 5)).toEqual([2, 2]);
    // The liver is never cut.
    expect(scoredSlices(FLARE22_ORGANS[0], c, 5)).toEqual([0, 5]);
  });

  it('rounds as numpy does: half to even at the 4th decimal', () => {
    expect(roundLikeNumpy(49 / 160, 4)).toBe(0.3062);
    expect(roundLikeNumpy(0.30635, 4)).toBe(0.3064);
    expect(roundLikeNumpy(0.199975, 4)).toBe(0.2);
    expect(roundLikeNumpy(1, 4)).toBe(1);
    expect(roundLikeNumpy(0.12344999, 4)).toBe(0.1234);
  });
});
