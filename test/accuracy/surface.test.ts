// Corner codes: each corner of the box's voxel grid with the 8-bit code of its 2×2×2 neighbourhood
// (128 at offset (−1,−1,−1) … 1 at (0,0,0)); voxels outside the box are background.
import { describe, expect, it } from 'vitest';
import { cornerCodes, surfaceCorners } from '../../src/accuracy/surface.js';

describe('cornerCodes', () => {
  it('one voxel: its 8 corners, each with the one bit of where the voxel lies from it', () => {
    const vol = new Uint8Array(3 * 3 * 3);
    vol[1 + 3 * (1 + 3 * 1)] = 4;
    const c = cornerCodes(vol, [3, 3, 3], [[1, 2], [1, 2], [1, 2]], (l) => l === 4);
    expect(c.shape).toEqual([2, 2, 2]);
    // From corner (a, b, c) the voxel lies at offset (−a, −b, −c). In corner order (a fastest):
    // (0,0,0) → offset (0,0,0) 1; (1,0,0) → (−1,0,0) 16; (0,1,0) → (0,−1,0) 4; (1,1,0) → (−1,−1,0) 64;
    // (0,0,1) → (0,0,−1) 2; (1,0,1) → (−1,0,−1) 32; (0,1,1) → (0,−1,−1) 8; (1,1,1) → (−1,−1,−1) 128.
    expect([...c.codes]).toEqual([1, 16, 4, 64, 2, 32, 8, 128]);
    expect([...surfaceCorners(c)]).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('a full box has inner corners of code 255 (not surface); the box cuts the mask into ordinary boundaries', () => {
    const vol = new Uint8Array(4 * 4 * 4).fill(1);
    const c = cornerCodes(vol, [4, 4, 4], [[0, 4], [0, 4], [1, 3]], (l) => l === 1);
    expect(c.shape).toEqual([5, 5, 3]);
    const center = 2 + 5 * (2 + 5 * 1);
    expect(c.codes[center]).toBe(255);
    expect(surfaceCorners(c)[center]).toBe(0);
    // The cut face at the box's top: those corners see voxels below only (weights 128, 32, 8, 2 → the c−1 side).
    const top = 2 + 5 * (2 + 5 * 2);
    expect(c.codes[top]).toBe(128 + 32 + 8 + 2);
  });
});
