// A fixed dataset for the ranking's golden test: 13 teams × 40 cases × the five FLARE22 metrics, with
// ties (coarse values), failed cases, missing values and a metric one team never has, from a seeded
// generator, so that any change to how ranks are computed shows as a different digit.
import type { RankedMetric } from '../../src/scoring/challenge-profile.js';
import type { MetricValue } from '../../src/scoring/rank.js';

export const GOLDEN_METRICS: RankedMetric[] = [
  { metric: 'DSC', higherIsBetter: true, weight: 1 },
  { metric: 'NSD', higherIsBetter: true, weight: 1 },
  { metric: 'time', higherIsBetter: false, weight: 1 },
  { metric: 'aucGpu', higherIsBetter: false, weight: 0.5 },
  { metric: 'aucCpu', higherIsBetter: false, weight: 0.5 },
] as RankedMetric[];

export function goldenValues(repeats = 1): MetricValue[] {
  let s = 12345;
  const random = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out: MetricValue[] = [];
  for (let t = 0; t < 13; t++) {
    for (let c = 0; c < 40; c++) {
      for (let rep = 0; rep < repeats; rep++) {
        const failed = random() < 0.04;
        for (const m of GOLDEN_METRICS) {
          if (random() < 0.02) continue; // missing
          if (t === 12 && m.metric === 'aucCpu') continue; // one team never has it
          // Coarse values: many ties.
          const v = m.higherIsBetter ? Math.round(random() * 20) / 20 : Math.round(random() * 30 + t);
          const row: MetricValue = { team: `team-${String.fromCharCode(97 + t)}`, case: `case-${String(c).padStart(3, '0')}`, metric: m.metric, value: v, failed };
          if (repeats > 1) row.repeat = rep;
          out.push(row);
        }
      }
    }
  }
  return out;
}
