// `flare-agent accuracy` through the built CLI: the official CSV of the fixture cases byte for byte,
// long rows that the ranking's parser reads, one JSON object per case, and a bad case (a prediction of
// another shape, a prediction without ground truth, a truncated file) reported on its own while the
// others are scored; a ground truth without prediction listed.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAccuracyCsv } from '../../src/scoring/inputs.js';
import { cli } from '../http/cli-helpers.js';
import { tempDir } from '../helpers.js';
import { writeNifti } from '../../bench/nifti-writer.js';

const FIX = join(import.meta.dirname, 'fixtures', 'official-2022');

describe('flare-agent accuracy', () => {
  it('writes the official CSV, the long rows and JSON lines; progress on stderr', async () => {
    const out = tempDir('flare-acc-cmd-');
    const r = await cli(['accuracy', '--gt', join(FIX, 'gt'), '--pred', join(FIX, 'pred'), '--profile', 'flare22-2022', '--out', join(out, 'o.csv'), '--long', join(out, 'l.csv'), '--team', 'alpha', '--json', '--threads', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'o.csv'), 'utf8')).toBe(readFileSync(join(FIX, 'official.csv'), 'utf8'));
    const rows = parseAccuracyCsv(readFileSync(join(out, 'l.csv'), 'utf8'));
    expect(rows.filter((x) => x.metric === 'DSC')).toHaveLength(4);
    expect(rows).toHaveLength(4 * (2 + 26));
    const liver = rows.find((x) => x.case === 'case_01' && x.metric === 'DSC_Liver')!;
    expect(liver.value).toBeCloseTo(0.7768707482993197, 15);
    const json = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; scores: unknown[] });
    expect(json.map((j) => j.file).sort()).toEqual(['case_01.nii.gz', 'case_02.nii.gz', 'case_03.nii.gz', 'case_04.nii.gz']);
    expect(r.stderr).toMatch(/4\/4 case_0\d\.nii\.gz/);
    expect(r.stderr).toMatch(/4 case\(s\) scored, 0 failed, 0 without prediction/);
  });

  it('a bad case is its own error (exit 1), the others are scored; a ground truth without prediction is listed', async () => {
    const dir = tempDir('flare-acc-bad-');
    const [gt, pred] = [join(dir, 'gt'), join(dir, 'pred')];
    mkdirSync(gt);
    mkdirSync(pred);
    for (const f of ['case_01.nii.gz', 'case_02.nii.gz']) {
      copyFileSync(join(FIX, 'gt', f), join(gt, f));
      copyFileSync(join(FIX, 'pred', f), join(pred, f));
    }
    writeNifti(join(gt, 'shape.nii.gz'), { shape: [4, 4, 4], values: new Array(64).fill(1) });
    writeNifti(join(pred, 'shape.nii.gz'), { shape: [4, 4, 5], values: new Array(80).fill(1) });
    writeNifti(join(pred, 'nogt.nii.gz'), { shape: [2, 2, 2], values: new Array(8).fill(1) });
    // A participant's file name that a spreadsheet would run as a formula.
    copyFileSync(join(FIX, 'pred', 'case_04.nii.gz'), join(pred, '=HYPERLINK(1).nii.gz'));
    copyFileSync(join(FIX, 'gt', 'case_04.nii.gz'), join(gt, '=HYPERLINK(1).nii.gz'));
    writeFileSync(join(pred, 'cut.nii.gz'), readFileSync(join(FIX, 'pred', 'case_03.nii.gz')).subarray(0, 200));
    copyFileSync(join(FIX, 'gt', 'case_03.nii.gz'), join(gt, 'cut.nii.gz'));
    copyFileSync(join(FIX, 'gt', 'case_04.nii.gz'), join(gt, 'case_04.nii.gz')); // no prediction
    const r = await cli(['accuracy', '--gt', gt, '--pred', pred, '--out', join(dir, 'o.csv')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/shape\.nii\.gz error: ground truth is 4×4×4, prediction 4×4×5/);
    expect(r.stderr).toMatch(/nogt\.nii\.gz error: .*nogt\.nii\.gz: cannot read: ENOENT/);
    expect(r.stderr).toMatch(/cut\.nii\.gz error: .*gzip/);
    expect(r.stderr).toMatch(/no prediction for case_04\.nii\.gz: not scored/);
    expect(r.stderr).toMatch(/3 case\(s\) scored, 3 failed, 1 without prediction/);
    expect(readFileSync(join(dir, 'o.csv'), 'utf8').trim().split('\n').map((l) => l.split(',')[0])).toEqual(['Name', "'=HYPERLINK(1).nii.gz", 'case_01.nii.gz', 'case_02.nii.gz']);
  });

  it('the rules come from the profile: one without an accuracy block is bad usage; a profile file\'s block is checked field by field', async () => {
    const none = await cli(['accuracy', '--gt', join(FIX, 'gt'), '--pred', join(FIX, 'pred'), '--profile', 'flare23']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--profile: profile flare23 has no accuracy rules/);
    const dir = tempDir('flare-acc-profile-');
    const profile = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'profiles', 'flare22.json'), 'utf8')) as { accuracy: { organs: { toleranceMm: unknown }[] } };
    profile.accuracy.organs[3].toleranceMm = 'five';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(profile));
    const bad = await cli(['accuracy', '--gt', join(FIX, 'gt'), '--pred', join(FIX, 'pred'), '--profile', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/accuracy\.organs\[3\]\.toleranceMm: must be a finite number/);
  });
});
