// The current rules' DSC-0.2 gate at its edge, on known answers (docs/scoring.md, "Accuracy"): a DSC
// of exactly 0.2 has its NSD computed; 0.199975 is below the gate (NSD 0, not computed), and the
// official CSV prints it as DSC 0.2 with NSD 0. The 2022 rules compute both.
import { describe, expect, it } from 'vitest';
import type { LabelVolume } from '../../src/accuracy/nifti.js';
import { officialCsv } from '../../src/accuracy/report.js';
import { accuracyRulesOf } from '../../src/accuracy/rules.js';
import { scoreCase } from '../../src/accuracy/score.js';
import { loadProfile } from '../../src/scoring/challenge-profile-load.js';

const rules = accuracyRulesOf(loadProfile('flare22'));

/** A liver (label 1) in each volume, runs of voxels in array order: [gtFrom, gtTo) and [predFrom, predTo). */
function pair(shape: [number, number, number], gt: [number, number], pred: [number, number]): [LabelVolume, LabelVolume] {
  const n = shape[0] * shape[1] * shape[2];
  const vol = ([from, to]: [number, number]): LabelVolume => ({ shape, spacingMm: [1, 1, 1], labels: new Uint8Array(n).fill(1, from, to) });
  return [vol(gt), vol(pred)];
}

describe('the DSC-0.2 gate of the current rules', () => {
  it('DSC exactly 0.2: NSD computed (not gated)', () => {
    // 5 + 5 voxels, 1 shared: 2·1/10 = 0.2 to the bit.
    const [gt, pred] = pair([16, 1, 1], [0, 5], [4, 9]);
    const liver = scoreCase(gt, pred, rules.organs, 'flare22')[0];
    expect(liver.dsc).toBe(0.2);
    expect(liver.rule).toBeUndefined();
    expect(liver.nsd).toBeGreaterThan(0);
  });

  it('DSC 0.199975: NSD 0 without computing; the CSV prints DSC 0.2, NSD 0; the 2022 rules compute it', () => {
    // 40 000 + 40 000 voxels, 7 999 shared: 2·7999/80000 = 0.199975 (rounds half to even to 0.2).
    const [gt, pred] = pair([400, 200, 2], [0, 40000], [32001, 72001]);
    const [liver] = scoreCase(gt, pred, rules.organs, 'flare22');
    expect(liver.dsc).toBeCloseTo(0.199975, 15);
    expect(liver.dsc).toBeLessThan(0.2);
    expect(liver).toMatchObject({ nsd: 0, rule: 'dsc-below-0.2' });
    const row = officialCsv([{ file: 'c.nii.gz', scores: scoreCase(gt, pred, rules.organs, 'flare22') }], rules).trim().split('\n');
    const [head, values] = row.map((l) => l.split(','));
    expect(values[head.indexOf('Liver_DSC')]).toBe('0.2');
    expect(values[head.indexOf('Liver_NSD')]).toBe('0');
    const old = scoreCase(gt, pred, rules.organs, 'flare22-2022')[0];
    expect(old.rule).toBeUndefined();
    expect(old.nsd).toBeGreaterThan(0);
  });
});
