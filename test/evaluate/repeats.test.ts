// evaluate --repeat's pure parts: the seeded order and the spread, by hand.
import { describe, expect, it } from 'vitest';
import { repeatSchedule, repeatsCsv, repeatsTable, spreadOf } from '../../src/evaluate/repeats.js';
import { run, summary } from '../http/helpers.js';

describe('repeatSchedule', () => {
  it('repeat 1 keeps the case order', () => {
    expect(repeatSchedule(['a', 'b', 'c'], 1, 9)).toEqual([{ item: 'a', repeat: 1 }, { item: 'b', repeat: 1 }, { item: 'c', repeat: 1 }]);
  });

  it('repeat 3: every case three times, shuffled, the same for the same seed', () => {
    const s = repeatSchedule(['a', 'b'], 3, 7);
    expect(s).toHaveLength(6);
    expect([...s].map((x) => `${x.item}${x.repeat}`).sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    expect(repeatSchedule(['a', 'b'], 3, 7)).toEqual(s);
    // Some seed gives a different order (the shuffle depends on it).
    expect([1, 2, 3, 4, 5].some((seed) => JSON.stringify(repeatSchedule(['a', 'b'], 3, seed)) !== JSON.stringify(s))).toBe(true);
  });
});

describe('spreadOf', () => {
  it('median, min, max and CV (sample sd / mean) by hand', () => {
    // 2, 4, 9: mean 5, sample variance ((9 + 1 + 16)/2) = 13 → sd 3.6056, CV 0.72111
    const s = spreadOf([4, null, 9, 2]);
    expect(s).toMatchObject({ n: 3, median: 4, min: 2, max: 9 });
    expect(s.cv).toBeCloseTo(Math.sqrt(13) / 5, 12);
    expect(spreadOf([5]).cv).toBeNull();
    expect(spreadOf([]).median).toBeNull();
  });
});

describe('repeatsCsv', () => {
  it('one row per case and figure', () => {
    const runs = [10, 12].map((t, i) => run(`r${i}`, { summary: summary({ scoring: { timeSeconds: t, aucGpuMiBs: null, aucCpuPctS: 100, penalised: false } }) }));
    const lines = repeatsCsv(new Map([['case_001', runs]])).trim().split('\n');
    expect(lines[0]).toBe('Name,Figure,Repeats,Median,Min,Max,CV');
    // 10, 12: median 11, sd √2, CV √2/11 = 0.1286
    expect(lines[1]).toBe('case_001,Time,2,11,10,12,0.1286');
    expect(lines[2]).toBe('case_001,AUC_GPU_Time,0,,,,');
    expect(lines[3]).toBe('case_001,AUC_CPU_Time,2,100,100,100,0');
  });
});

describe('repeatsTable', () => {
  it('per case: repeats, and each scoring figure as median [min–max] CV', () => {
    const runs = [10, 12].map((t, i) => run(`r${i}`, { summary: summary({ scoring: { timeSeconds: t, aucGpuMiBs: null, aucCpuPctS: 100, penalised: false } }) }));
    const one = [run('r9', { summary: summary({ scoring: { timeSeconds: 7.5, aucGpuMiBs: 30, aucCpuPctS: 50, penalised: false } }) })];
    const lines = repeatsTable(new Map([['case_b', one], ['case_a', runs]]), (s) => s.toUpperCase()).trimEnd().split('\n');
    expect(lines).toEqual([
      'CASE    N  TIME_S                AUC_GPU  AUC_CPU',
      'CASE_A  2  11 [10–12] CV 12.9 %  —        100 [100–100] CV 0.0 %',
      'CASE_B  1  7.5                   30       50',
    ]);
  });
});
