// File names from team names: readable, and never shared by two teams of one export.
import { describe, expect, it } from 'vitest';
import { fileNamePart, foldFileName, MAX_NAME_PART_BYTES, uniqueFileNames } from '../../src/export/file-names.js';
import { flareFileName } from '../../src/export/flare-csv.js';

describe('file names from team names', () => {
  it('keeps a safe name as it is, and letters of any script', () => {
    expect(flareFileName('teamalpha')).toBe('teamalpha_Efficiency.csv');
    expect(fileNamePart('北京大学')).toBe('北京大学');
    expect(fileNamePart('浙江大学')).toBe('浙江大学');
    expect(fileNamePart('Müller-Lab_2.0')).toBe('Müller-Lab_2.0');
  });

  it('adds a stable hash where sanitising changed the name', () => {
    const slash = fileNamePart('a/b');
    expect(slash).toMatch(/^a_b-[0-9a-f]{8}$/);
    expect(fileNamePart('a/b')).toBe(slash); // stable
    expect(fileNamePart('a_b')).toBe('a_b');
    expect(fileNamePart('a b')).not.toBe(slash);
    expect(fileNamePart('..')).toMatch(/^_-[0-9a-f]{8}$/);
    expect(fileNamePart('')).toMatch(/^_-[0-9a-f]{8}$/);
    expect(fileNamePart('x\u202eexe.')).toMatch(/^x_exe\.-[0-9a-f]{8}$/); // a bidi override is no letter
  });

  it('bounds a long name in UTF-8 bytes, hashing the whole original', () => {
    const long = '大'.repeat(200);
    const part = fileNamePart(long);
    expect(Buffer.byteLength(part, 'utf8')).toBeLessThanOrEqual(MAX_NAME_PART_BYTES + 9);
    expect(fileNamePart(`${long}x`)).not.toBe(part);
  });

  it('gives every team of an export its own file, ignoring case too', () => {
    const teams = ['北京大学', '浙江大学', 'a/b', 'a_b', 'a:b', 'TeamA', 'teama', '', ' ', '_'];
    const names = uniqueFileNames(teams, '_Efficiency.csv');
    expect(names.size).toBe(teams.length);
    const folded = new Set([...names.values()].map((n) => n.toLowerCase()));
    expect(folded.size).toBe(teams.length);
    expect(names.get('北京大学')).toBe('北京大学_Efficiency.csv');
    expect(names.get('a_b')).toBe('a_b_Efficiency.csv');
    expect(names.get('TeamA')).toMatch(/^TeamA-[0-9a-f]{8}_Efficiency\.csv$/);
    // The same teams in another order: the same names.
    expect(uniqueFileNames([...teams].reverse(), '_Efficiency.csv')).toEqual(names);
  });

  it('names that a case-folding filesystem takes as one file get two names (full folding and NFKC, not toLowerCase)', () => {
    // Each pair is one file on NTFS, APFS or ext4-casefold, and distinct under toLowerCase().
    const pairs = [['σ-team', 'ς-team'], ['µNet', 'μNet'], ['ſeg', 'seg'], ['Straße', 'STRASSE'], ['Alı', 'ALI'], ['Kelvin', '\u212Aelvin'], ['ǅ', 'ǆ']];
    for (const [a, b] of pairs) {
      expect(foldFileName(a)).toBe(foldFileName(b));
      const names = uniqueFileNames([a, b], '_Efficiency.csv');
      expect(foldFileName(names.get(a)!), `${a} / ${b}`).not.toBe(foldFileName(names.get(b)!));
    }
    // A team alone keeps its readable name.
    expect(uniqueFileNames(['Straße'], '.csv').get('Straße')).toBe('Straße.csv');
  });
});
