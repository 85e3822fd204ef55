// The surface of a mask as the FLARE surface Dice sees it: the corners of the voxel grid inside a
// box, each with the 8-bit code of its 2×2×2 neighbourhood of voxels. Pure.
//
// For a box of n0 × n1 × n2 voxels the corners form an (n0+1) × (n1+1) × (n2+1) grid; corner (a, b, c)
// touches the voxels (a−1…a, b−1…b, c−1…c), and a voxel outside the box (or the volume) is background.
// Its code weighs them 128, 64, 32, 16, 8, 4, 2, 1 in the order (−1,−1,−1), (−1,−1,0), (−1,0,−1),
// (−1,0,0), (0,−1,−1), (0,−1,0), (0,0,−1), (0,0,0). A corner is on the surface when its code is
// neither 0 (all background) nor 255 (all inside): exactly the corners whose neighbourhood the
// boundary passes through.

import type { Box } from './overlap.js';
import { Scratch } from './scratch.js';

export interface CornerCodes {
  /** Corners per axis: the box's voxels + 1. */
  shape: [number, number, number];
  /** Code of corner (a, b, c) at a + shape[0] × (b + shape[1] × c). */
  codes: Uint8Array;
}

/**
 * The corner codes of the voxels of `volume` (of `volumeShape`) that satisfy `inside(label)`, within
 * `box` (voxel ranges [from, to) per axis). Voxels outside the box count as background, so a box
 * that cuts through the mask (the slice-range rule) makes the cut faces ordinary boundaries. The
 * codes live in `scratch` under `use` until the next call with the same use.
 */
export function cornerCodes(
  volume: Uint8Array,
  volumeShape: readonly [number, number, number],
  box: Box,
  inside: (label: number) => boolean,
  scratch: Scratch = new Scratch(),
  use = 'corners',
): CornerCodes {
  const [v0, v1] = volumeShape;
  const [[i0, i1], [j0, j1], [k0, k1]] = box;
  const m0 = i1 - i0;
  const m1 = j1 - j0;
  const m2 = k1 - k0;
  // The mask in the box, with one voxel of background on every side (corners reach one voxel out).
  const p0 = m0 + 2;
  const p1 = m1 + 2;
  const padded = scratch.get('u8', 'padded-mask', p0 * p1 * (m2 + 2)).fill(0);
  const isIn = new Uint8Array(256);
  for (let l = 0; l < 256; l++) isIn[l] = inside(l) ? 1 : 0;
  for (let k = 0; k < m2; k++) {
    for (let j = 0; j < m1; j++) {
      const src = i0 + v0 * (j0 + j + v1 * (k0 + k));
      const dst = 1 + p0 * (1 + j + p1 * (1 + k));
      for (let i = 0; i < m0; i++) padded[dst + i] = isIn[volume[src + i]];
    }
  }
  const shape: [number, number, number] = [m0 + 1, m1 + 1, m2 + 1];
  const codes = scratch.get('u8', use, shape[0] * shape[1] * shape[2]);
  // Corner (a, b, c) has the padded voxels (a…a+1, b…b+1, c…c+1): the (−1) neighbours are at a, b, c.
  // Its code is the 4 voxels of column a (b…b+1, c…c+1) in the high bits and those of column a + 1 in
  // the low bits, so each column's 4 voxels are read once and serve two corners.
  for (let c = 0, o = 0; c < shape[2]; c++) {
    for (let b = 0; b < shape[1]; b++) {
      const r00 = p0 * (b + p1 * c); // padded (0, b, c)
      const r01 = r00 + p0 * p1; // (0, b, c + 1)
      const r10 = r00 + p0; // (0, b + 1, c)
      const r11 = r01 + p0; // (0, b + 1, c + 1)
      let left = (padded[r00] << 3) | (padded[r01] << 2) | (padded[r10] << 1) | padded[r11];
      for (let a = 0; a < shape[0]; a++, o++) {
        const x = a + 1;
        const right = (padded[r00 + x] << 3) | (padded[r01 + x] << 2) | (padded[r10 + x] << 1) | padded[r11 + x];
        codes[o] = (left << 4) | right;
        left = right;
      }
    }
  }
  return { shape, codes };
}

/** 1 where a corner is on the surface (code neither 0 nor 255), else 0: the distance transform's features. */
export function surfaceCorners(c: CornerCodes, scratch: Scratch = new Scratch()): Uint8Array {
  const out = scratch.get('u8', 'surface-corners', c.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = c.codes[i] !== 0 && c.codes[i] !== 255 ? 1 : 0;
  return out;
}
