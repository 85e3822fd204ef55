// The harness's output files: <team>_Efficiency.csv (FLARE22 layout, official-compatible figures),
// <team>_Efficiency_exact.csv (same layout, exact figures and penalties), <team>_cases.csv (how each
// case ended), the plots and summary.json; plus the final table for the terminal.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Run } from '../core/types.js';
import { csvLine, formatNumber } from '../export/csv.js';
import { flareCsv, flareFileName } from '../export/flare-csv.js';
import type { HarnessSpan } from '../export/official.js';
import { safeName } from '../plot/files.js';
import type { CaseRecord } from './record.js';
import { maskUnsafe } from '../core/text.js';

export interface ReportFiles {
  efficiency: string;
  efficiencyExact: string;
  cases: string;
  summary: string;
  plots: string;
  /** evaluate --repeat: per case median, min–max and CV of the figures. */
  repeats: string;
}

export function reportPaths(outDir: string, team: string): ReportFiles {
  const official = flareFileName(team);
  return {
    efficiency: join(outDir, official),
    efficiencyExact: join(outDir, official.replace(/\.csv$/, '_exact.csv')),
    cases: join(outDir, `${safeName(team)}_cases.csv`),
    summary: join(outDir, 'summary.json'),
    repeats: join(outDir, `${safeName(team)}_repeats.csv`),
    plots: join(outDir, 'plots'),
  };
}

export const CASES_HEADER = ['Name', 'Repeat', 'State', 'Status', 'Ended', 'ExitCode', 'OOMKilled', 'TimedOut', 'Output', 'HarnessWallSeconds', 'RunId', 'Error'];

export function casesCsv(records: readonly CaseRecord[]): string {
  let out = csvLine(CASES_HEADER);
  for (const r of records) {
    out += csvLine([
      r.name,
      r.repeat ?? 1,
      r.state,
      r.status,
      r.end,
      r.exitCode,
      r.oomKilled ? 'true' : 'false',
      r.exceededTimeLimit === null ? null : r.exceededTimeLimit ? 'true' : 'false',
      r.outputPresent === null ? null : r.outputPresent ? 'present' : 'missing',
      r.harnessWallSeconds,
      r.runId,
      r.error,
    ]);
  }
  return out;
}

/** The harness's own span of each measured case, by run id (the official Time and span). */
export function harnessSpans(records: readonly CaseRecord[]): Map<string, HarnessSpan> {
  const out = new Map<string, HarnessSpan>();
  for (const r of records) {
    if (r.runId && r.beforeCreateMonoNs != null && r.afterRemoveMonoNs != null) out.set(r.runId, { beforeCreateMonoNs: r.beforeCreateMonoNs, afterRemoveMonoNs: r.afterRemoveMonoNs });
  }
  return out;
}

/**
 * Runs in case order (flareCsv sorts by start time, which is case order for one harness run).
 * officialCsvText: <team>_Efficiency.csv, the profile's official figures (the measurer forms them).
 */
export function writeCsvs(files: ReportFiles, runs: readonly Run[], records: readonly CaseRecord[], officialCsvText: string): void {
  mkdirSync(files.plots, { recursive: true });
  writeFileSync(files.efficiency, officialCsvText);
  writeFileSync(files.efficiencyExact, flareCsv([...runs], 'flare22', 'exact', false));
  writeFileSync(files.cases, casesCsv(records));
}

const clean = (s: string): string => maskUnsafe(s).slice(0, 60);

/** The terminal table: one row per case with the exact scoring figures. */
export function finalTable(records: readonly CaseRecord[], runs: ReadonlyMap<string, Run>): string {
  const head = ['CASE', 'STATE', 'STATUS', 'EXIT', 'OUTPUT', 'TIME_S', 'AUC_GPU', 'AUC_CPU', 'MAX_RAM_MIB', 'PENALISED'];
  const rows = records.map((r) => {
    const s = r.runId ? runs.get(r.runId)?.summary : undefined;
    return [
      clean(r.name),
      r.state,
      r.status ?? '—',
      r.exitCode === null ? '—' : String(r.exitCode),
      r.outputPresent === null ? '—' : r.outputPresent ? 'ok' : 'MISSING',
      formatNumber(s?.scoring.timeSeconds, 2) || '—',
      formatNumber(s?.scoring.aucGpuMiBs, 0) || '—',
      formatNumber(s?.scoring.aucCpuPctS, 1) || '—',
      formatNumber(s?.maxRamMiB, 1) || '—',
      s ? (s.scoring.penalised ? 'yes' : 'no') : '—',
    ];
  });
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((row) => row[i].length)));
  return [head, ...rows].map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}
