// The per-case scores against the official FLARE22 evaluation (the 2022 script) run on the same files
// (fixtures/official-2022/README.md): every DSC and NSD equal after the official rounding, and within
// 1e-12 before it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLabelVolume } from '../../src/accuracy/nifti.js';
import { roundLikeNumpy } from '../../src/accuracy/overlap.js';
import { loadProfile } from '../../src/scoring/challenge-profile-load.js';

const FLARE22_ORGANS = loadProfile('flare22').accuracy!.organs;
import { CaseShapeError, scoreCase } from '../../src/accuracy/score.js';

const DIR = join(import.meta.dirname, 'fixtures', 'official-2022');
const csv = readFileSync(join(DIR, 'official.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
const header = csv[0];
const unrounded = JSON.parse(readFileSync(join(DIR, 'unrounded.json'), 'utf8')) as Record<string, Record<string, { dsc: number; nsd: number }>>;

describe('scoreCase (flare22-2022) against the official script', () => {
  for (const row of csv.slice(1)) {
    const name = row[0];
    it(`${name}: the official CSV's 26 figures, and the unrounded ones within 1e-12`, async () => {
      const [gt, pred] = await Promise.all([readLabelVolume(join(DIR, 'gt', name)), readLabelVolume(join(DIR, 'pred', name))]);
      const scores = scoreCase(gt, pred, FLARE22_ORGANS, 'flare22-2022');
      for (const s of scores) {
        const official = unrounded[name][s.organ];
        expect(s.dsc, `${s.organ} DSC`).toBeCloseTo(official.dsc, 12);
        expect(s.nsd, `${s.organ} NSD`).toBeCloseTo(official.nsd, 12);
        expect(roundLikeNumpy(s.dsc, 4), `${s.organ} DSC`).toBe(Number(row[header.indexOf(`${s.organ}_DSC`)]));
        expect(roundLikeNumpy(s.nsd, 4), `${s.organ} NSD`).toBe(Number(row[header.indexOf(`${s.organ}_NSD`)]));
        expect(s.note).toBeUndefined();
      }
    });
  }

  it('the current rules: an empty prediction scores 0, 0; a DSC under 0.2 has NSD 0; a one-slice aorta is scored on its slice, said', async () => {
    const [gt, pred] = await Promise.all([readLabelVolume(join(DIR, 'gt', 'case_04.nii.gz')), readLabelVolume(join(DIR, 'pred', 'case_04.nii.gz'))]);
    const liver = scoreCase(gt, pred, FLARE22_ORGANS, 'flare22').find((s) => s.organ === 'Liver')!;
    expect(liver.dsc).toBeLessThan(0.2);
    expect(liver.nsd).toBe(0);
    const empty = { ...pred, labels: new Uint8Array(pred.labels.length) };
    expect(scoreCase(gt, empty, FLARE22_ORGANS, 'flare22').find((s) => s.organ === 'RK')).toEqual({ organ: 'RK', dsc: 0, nsd: 0, rule: 'pred-empty' });
    expect(liver.rule).toBe('dsc-below-0.2');
    const oneSlice = new Uint8Array(gt.labels.length);
    oneSlice[5 + gt.shape[0] * (5 + gt.shape[1] * 4)] = 5;
    const aorta = scoreCase({ ...gt, labels: oneSlice }, { ...gt, labels: oneSlice }, FLARE22_ORGANS, 'flare22').find((s) => s.organ === 'Aorta')!;
    expect(aorta).toEqual({ organ: 'Aorta', dsc: 1, nsd: 1, note: 'single-slice-range' });
    expect(scoreCase(gt, pred, FLARE22_ORGANS, 'flare22').find((s) => s.organ === 'IVC')).toEqual({ organ: 'IVC', dsc: 1, nsd: 1, rule: 'both-empty' });
    expect(() => scoreCase(gt, { ...pred, shape: [1, 2, 3] }, FLARE22_ORGANS, 'flare22')).toThrow(CaseShapeError);
  });
});

describe('officialCsv', () => {
  it('the official script\'s CSV, byte for byte (its integer figures and pandas\'s column formatting included)', async () => {
    const { officialCsv } = await import('../../src/accuracy/report.js');
    const { accuracyRulesOf } = await import('../../src/accuracy/rules.js');
    const cases = [];
    for (const row of csv.slice(1)) {
      const [gt, pred] = await Promise.all([readLabelVolume(join(DIR, 'gt', row[0])), readLabelVolume(join(DIR, 'pred', row[0]))]);
      cases.push({ file: row[0], scores: scoreCase(gt, pred, FLARE22_ORGANS, 'flare22-2022') });
    }
    expect(officialCsv(cases, accuracyRulesOf(loadProfile('flare22-2022')))).toBe(readFileSync(join(DIR, 'official.csv'), 'utf8'));
  });
});
