// `evaluate --repeat N`: the run order (every case N times, shuffled with a seed so drift on the
// node does not line up with one case) and the per-case spread of the figures over the repeats
// (median, min–max, coefficient of variation). Pure.
import type { Run } from '../core/types.js';
import { csvLine, formatNumber } from '../export/csv.js';
import { quantile, seededRandom } from '../scoring/bootstrap.js';

export interface Scheduled<C> {
  item: C;
  /** 1-based repeat number of this item. */
  repeat: number;
}

/** repeat 1: the items in order. Otherwise every item `repeat` times, Fisher–Yates shuffled with the seed. */
export function repeatSchedule<C>(items: readonly C[], repeat: number, seed: number): Scheduled<C>[] {
  const out: Scheduled<C>[] = [];
  for (let r = 1; r <= repeat; r++) for (const item of items) out.push({ item, repeat: r });
  if (repeat === 1) return out;
  const random = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface Spread {
  n: number;
  median: number | null;
  min: number | null;
  max: number | null;
  /** Sample standard deviation / mean (null under 2 values or a zero mean). */
  cv: number | null;
}

export function spreadOf(values: readonly (number | null | undefined)[]): Spread {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return { n: 0, median: null, min: null, max: null, cv: null };
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : null;
  return { n: xs.length, median: quantile(xs, 0.5), min: xs[0], max: xs[xs.length - 1], cv: sd === null || mean === 0 ? null : sd / Math.abs(mean) };
}

/** The figures whose spread is reported: the exact scoring figures and the memory maxima. */
export const REPEAT_FIGURES: [string, (r: Run) => number | null | undefined][] = [
  ['Time', (r) => r.summary?.scoring.timeSeconds],
  ['AUC_GPU_Time', (r) => r.summary?.scoring.aucGpuMiBs],
  ['AUC_CPU_Time', (r) => r.summary?.scoring.aucCpuPctS],
  ['MaxGPU_MiB', (r) => r.summary?.maxGpuMiB],
  ['MaxRAM_MiB', (r) => r.summary?.maxRamMiB],
];

/** Per case and figure: median, min, max, CV over the case's repeats (exact figures). */
export function repeatsCsv(runsByCase: ReadonlyMap<string, readonly Run[]>): string {
  let out = csvLine(['Name', 'Figure', 'Repeats', 'Median', 'Min', 'Max', 'CV']);
  for (const [name, runs] of [...runsByCase].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const [figure, pick] of REPEAT_FIGURES) {
      const s = spreadOf(runs.map(pick));
      out += csvLine([name, figure, String(s.n), formatNumber(s.median, 4), formatNumber(s.min, 4), formatNumber(s.max, 4), formatNumber(s.cv, 4)]);
    }
  }
  return out;
}

/** "median [min–max] CV x.x %" of one figure, for the terminal. */
function spreadCell(s: Spread, digits: number): string {
  if (s.median === null) return '—';
  const range = s.n > 1 ? ` [${formatNumber(s.min, digits)}–${formatNumber(s.max, digits)}]` : '';
  const cv = s.cv === null ? '' : ` CV ${(100 * s.cv).toFixed(1)} %`;
  return `${formatNumber(s.median, digits)}${range}${cv}`;
}

/**
 * The terminal table of evaluate --repeat: per case, how many repeats were measured and each scoring
 * figure's median, min–max and CV (the ranking uses the median). Names are already safe for a terminal.
 */
export function repeatsTable(runsByCase: ReadonlyMap<string, readonly Run[]>, clean: (s: string) => string): string {
  const head = ['CASE', 'N', 'TIME_S', 'AUC_GPU', 'AUC_CPU'];
  const rows = [...runsByCase].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, runs]) => {
    const [time, gpu, cpu] = REPEAT_FIGURES.slice(0, 3).map(([, pick]) => spreadOf(runs.map(pick)));
    return [clean(name), String(time.n), spreadCell(time, 2), spreadCell(gpu, 0), spreadCell(cpu, 1)];
  });
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((row) => row[i].length)));
  return [head, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}
