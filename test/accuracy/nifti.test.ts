// The label-map reader (src/accuracy/nifti.ts): every label datatype, both byte orders, gzip or not,
// the header's scaling, float labels truncated, spacing as float32, and a clear error for what is not
// a readable label map.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { labelOf, NiftiError, readLabelVolume } from '../../src/accuracy/nifti.js';
import { tempDir } from '../helpers.js';
import { niftiBytes, writeNifti } from '../../bench/nifti-writer.js';

const dir = tempDir('flare-nifti-');
const file = (name: string): string => join(dir, name);

describe('readLabelVolume', () => {
  const values = Array.from({ length: 4 * 3 * 2 }, (_, i) => i % 14);

  it.each(['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float32', 'float64'] as const)('%s, gzip and not, both byte orders: the labels in array order, spacing as float32', async (datatype) => {
    for (const gzip of [true, false]) {
      for (const bigEndian of [false, true]) {
        const path = file(`${datatype}-${gzip}-${bigEndian}.nii${gzip ? '.gz' : ''}`);
        writeNifti(path, { shape: [4, 3, 2], pixdim: [0.8, 0.8, 2.5], datatype, values, gzip, bigEndian });
        const v = await readLabelVolume(path);
        expect(v.shape).toEqual([4, 3, 2]);
        expect(v.spacingMm).toEqual([Math.fround(0.8), Math.fround(0.8), 2.5]);
        expect(v.spacingMm[0]).toBe(0.800000011920929);
        expect([...v.labels]).toEqual(values);
      }
    }
  });

  it('applies the scaling (slope 0 means none), then truncates to an 8-bit label', async () => {
    writeNifti(file('scaled.nii.gz'), { shape: [3, 1, 1], datatype: 'int16', values: [2, 3, 7], slope: 2, inter: 1 });
    expect([...(await readLabelVolume(file('scaled.nii.gz'))).labels]).toEqual([5, 7, 15]);
    writeNifti(file('slope0.nii.gz'), { shape: [3, 1, 1], datatype: 'int16', values: [2, 3, 7], slope: 0, inter: 5 });
    expect([...(await readLabelVolume(file('slope0.nii.gz'))).labels]).toEqual([2, 3, 7]);
    writeNifti(file('float.nii.gz'), { shape: [5, 1, 1], datatype: 'float32', values: [11.6, 0.7, 12.999, 1, 0] });
    expect([...(await readLabelVolume(file('float.nii.gz'))).labels]).toEqual([11, 0, 12, 1, 0]);
    expect([labelOf(-1), labelOf(256 + 13), labelOf(-0.5)]).toEqual([255, 13, 0]);
  });

  it('a volume larger than one stream chunk (several hundred kB, float64) arrives whole', async () => {
    const n = 96 * 96 * 20;
    const big = Array.from({ length: n }, (_, i) => (i * 7) % 14);
    writeNifti(file('big.nii.gz'), { shape: [96, 96, 20], datatype: 'float64', values: big });
    const v = await readLabelVolume(file('big.nii.gz'));
    expect(v.labels.length).toBe(n);
    expect(v.labels.every((x, i) => x === big[i])).toBe(true);
  });

  it('refuses, naming the file: not NIfTI, truncated (gzip or raw), non-finite voxels, 4-D, missing', async () => {
    const refused = async (path: string, reason: NiftiError['reason'], re: RegExp): Promise<void> => {
      const err = await readLabelVolume(path).then(() => null, (e: unknown) => e);
      expect(err, path).toBeInstanceOf(NiftiError);
      expect((err as NiftiError).reason, (err as Error).message).toBe(reason);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).toContain(path);
    };
    writeFileSync(file('text.nii.gz'), gzipSync(Buffer.from('team,case\n'.repeat(100))));
    await refused(file('text.nii.gz'), 'not-nifti', /not a NIfTI/);
    writeFileSync(file('empty.nii'), '');
    await refused(file('empty.nii'), 'truncated', /empty/);
    const whole = niftiBytes({ shape: [40, 40, 10], values: Array.from({ length: 16000 }, (_, i) => (i * 7919) % 14) });
    writeFileSync(file('cut.nii.gz'), whole.subarray(0, Math.floor(whole.length * 0.7)));
    await refused(file('cut.nii.gz'), 'truncated', /gzip/);
    const rawWhole = niftiBytes({ shape: [40, 40, 10], values: new Array(16000).fill(1), gzip: false });
    writeFileSync(file('cut.nii'), rawWhole.subarray(0, rawWhole.length - 5));
    await refused(file('cut.nii'), 'truncated', /15995 of 16000 voxels/);
    writeNifti(file('nan.nii.gz'), { shape: [3, 1, 1], datatype: 'float32', values: [1, NaN, 2] });
    await refused(file('nan.nii.gz'), 'non-finite', /voxel 1 is NaN/);
    writeNifti(file('4d.nii.gz'), { shape: [2, 2, 2, 3], values: new Array(24).fill(0) });
    await refused(file('4d.nii.gz'), 'unsupported', /dim\[4\] = 3/);
    await refused(file('missing.nii.gz'), 'open', /ENOENT/);
    // A FIFO (a participant's output folder can hold one) is refused, never opened for a blocking read.
    expect(spawnSync('mkfifo', [file('fifo.nii.gz')]).status).toBe(0);
    await refused(file('fifo.nii.gz'), 'not-nifti', /not a regular file/);
  });
});
