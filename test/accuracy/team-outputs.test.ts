// evaluate --gt's scoring of a team's outputs: the official CSV and the long rows written beside the
// efficiency CSVs, the team's rows replaced in a shared long CSV (others kept), written whole.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeTeamRows, scoreTeamOutputs } from '../../src/evaluate/accuracy.js';
import { accuracyRulesOf } from '../../src/accuracy/rules.js';
import { loadProfile } from '../../src/scoring/challenge-profile-load.js';
import { parseAccuracyCsv } from '../../src/scoring/inputs.js';
import { tempDir } from '../helpers.js';

const FIX = join(import.meta.dirname, 'fixtures', 'official-2022');

describe('scoreTeamOutputs', () => {
  it('writes <team>_DSC_NSD.csv and <team>_accuracy.csv, and merges the team into a shared file', async () => {
    const dir = tempDir('flare-team-acc-');
    const outputs = join(dir, 'alpha_outputs');
    mkdirSync(outputs);
    for (const f of ['case_01.nii.gz', 'case_02.nii.gz']) copyFileSync(join(FIX, 'pred', f), join(outputs, f));
    const shared = join(dir, 'all.csv');
    writeFileSync(shared, 'team,case,metric,value\nbeta,case_01,DSC,0.5\nalpha,stale,DSC,0.1\n');
    const lines: string[] = [];
    const r = await scoreTeamOutputs({ gtDir: join(FIX, 'gt'), outputsDir: outputs, rules: accuracyRulesOf(loadProfile('flare22-2022')), team: 'alpha', outDir: dir, mergeInto: shared }, (l) => lines.push(l));
    expect([r.scored, r.failed, r.missing]).toEqual([2, [], ['case_03.nii.gz', 'case_04.nii.gz']]);
    expect(lines).toHaveLength(2);
    const official = readFileSync(join(FIX, 'official.csv'), 'utf8').split('\n');
    // The same figures as the official script's rows of those cases (a column's 1 vs 1.0 follows the cases in it).
    const numbers = (l: string): (string | number)[] => l.split(',').map((c, i) => (i === 0 ? c : Number(c)));
    expect(readFileSync(r.officialCsv, 'utf8').split('\n').slice(0, 3).map(numbers)).toEqual(official.slice(0, 3).map(numbers));
    const mine = parseAccuracyCsv(readFileSync(r.longCsv, 'utf8'));
    const all = parseAccuracyCsv(readFileSync(shared, 'utf8'));
    expect(all.filter((x) => x.team === 'beta')).toHaveLength(1);
    expect(all.filter((x) => x.team === 'alpha').map((x) => [x.case, x.metric, x.value])).toEqual(mine.map((x) => [x.case, x.metric, x.value]));
    expect(all.some((x) => x.case === 'stale')).toBe(false);
  });

  it('mergeTeamRows creates the shared file when there is none', () => {
    const path = join(tempDir('flare-merge-'), 'new.csv');
    mergeTeamRows(path, 'gamma', 'team,case,metric,value\ngamma,c1,DSC,0.9\n');
    expect(readFileSync(path, 'utf8')).toBe('team,case,metric,value\ngamma,c1,DSC,0.9\n');
  });
});
