// The ranking and the bootstrap against their recorded outputs (fixtures/bootstrap-golden.json, written
// by the code before the bootstrap was precomputed into typed arrays): same dataset, same seed, the
// same numbers to the last digit (JSON keeps every bit of a double).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootstrapFrom, bootstrapInputOfTable, bootstrapRanking } from '../../src/scoring/bootstrap.js';
import { rankTable, rankTeams, valueTable } from '../../src/scoring/rank.js';
import { GOLDEN_METRICS, goldenValues } from './season-fixture.js';

const golden = JSON.parse(readFileSync(new URL('./fixtures/bootstrap-golden.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('ranking and bootstrap: identical to the recorded outputs', () => {
  for (const ties of ['min', 'average'] as const) {
    it(`full ranking, ties ${ties}`, () => {
      expect(JSON.parse(JSON.stringify(rankTeams(goldenValues(), GOLDEN_METRICS, ties)))).toEqual(golden[`rank-${ties}`]);
    });
    it(`bootstrap over cases, 300 resamples, seed 42, ties ${ties}`, () => {
      expect(JSON.parse(JSON.stringify(bootstrapRanking(goldenValues(), GOLDEN_METRICS, ties, 300, 42)))).toEqual(golden[`bootstrap-${ties}`]);
    });
    it(`bootstrap from a kept input (as the server keeps it), ties ${ties}: the same`, () => {
      const table = valueTable(goldenValues(), GOLDEN_METRICS);
      expect(JSON.parse(JSON.stringify(rankTable(table, GOLDEN_METRICS, ties)))).toEqual(golden[`rank-${ties}`]);
      const input = bootstrapInputOfTable(table, ties);
      expect(JSON.parse(JSON.stringify(bootstrapFrom(input, 300, 42)))).toEqual(golden[`bootstrap-${ties}`]);
      // Used again: nothing in it was consumed.
      expect(JSON.parse(JSON.stringify(bootstrapFrom(input, 300, 42)))).toEqual(golden[`bootstrap-${ties}`]);
    });
    it(`bootstrap drawing repeats, 100 resamples, seed 7, ties ${ties}`, () => {
      expect(JSON.parse(JSON.stringify(bootstrapRanking(goldenValues(3), GOLDEN_METRICS, ties, 100, 7, true)))).toEqual(golden[`bootstrap-repeats-${ties}`]);
    });
  }
  it('another seed gives other intervals (the comparison can fail)', () => {
    expect(JSON.parse(JSON.stringify(bootstrapRanking(goldenValues(), GOLDEN_METRICS, 'min', 300, 43)))).not.toEqual(golden['bootstrap-min']);
  });
});
