// The harness's output files: <team>_Efficiency.csv (FLARE22 layout, official-compatible figures),
// <team>_Efficiency_exact.csv (same layout, exact figures and penalties), <team>_cases.csv (how each
// case ended), the plots and summary.json; plus the final table for the terminal.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Run } from '../core/types.js';
import { csvLine, formatNumber } from '../export/csv.js';
import { flareCsv, flareFileName } from '../export/flare-csv.js';
import type { HarnessSpan } from '../official/runs.js';
import { safeName } from '../export/file-names.js';
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

export const CASES_HEADER = ['Name', 'Repeat', 'State', 'Status', 'Ended', 'ExitCode', 'OOMKilled', 'TimedOut', 'Output', 'HarnessWallSeconds', 'RunId', 'Error', 'Slot', 'Gpu', 'Cpuset', 'NumaNode', 'MemoryBytes'];

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
      r.placement?.slot ?? null,
      r.placement?.gpu ?? null,
      r.placement?.cpuset ?? null,
      r.placement?.numaNode ?? null,
      r.placement?.memoryBytes ?? null,
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

/** Rows in case order: a pool's cases may start out of order, so flareCsv's start-time order is not used. */
function csvInCaseOrder(runs: readonly Run[], records: readonly CaseRecord[]): string {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const header = flareCsv([], 'flare22', false);
  let out = header;
  for (const rec of records) {
    const run = rec.runId ? byId.get(rec.runId) : undefined;
    if (run) out += flareCsv([run], 'flare22', false).slice(header.length);
  }
  return out;
}

/**
 * officialCsvText: <team>_Efficiency.csv, the profile's official figures (the measurer forms them).
 * The exact file lists the runs in case order (a pool's cases may start out of order).
 */
export function writeCsvs(files: ReportFiles, runs: readonly Run[], records: readonly CaseRecord[], officialCsvText: string): void {
  mkdirSync(files.plots, { recursive: true });
  writeFileSync(files.efficiency, officialCsvText);
  writeFileSync(files.efficiencyExact, csvInCaseOrder(runs, records));
  writeFileSync(files.cases, casesCsv(records));
}

const clean = (s: string): string => maskUnsafe(s).slice(0, 60);
/** A name as the terminal tables print it: unsafe characters masked, at most 60 characters. */
export const terminalText = clean;

/** The terminal table: one row per case with the exact scoring figures (and its slot in a pool). */
export function finalTable(records: readonly CaseRecord[], runs: ReadonlyMap<string, Run>): string {
  const pool = records.some((r) => r.placement);
  const head = ['CASE', ...(pool ? ['SLOT'] : []), 'STATE', 'STATUS', 'EXIT', 'OUTPUT', 'TIME_S', 'AUC_GPU', 'AUC_CPU', 'MAX_RAM_MIB', 'PENALISED'];
  const rows = records.map((r) => {
    const s = r.runId ? runs.get(r.runId)?.summary : undefined;
    const slot = r.placement ? [`${r.placement.slot} gpu ${clean(r.placement.gpu).slice(0, 20)} cpu ${r.placement.cpuset ?? 'all'}`] : pool ? ['—'] : [];
    return [
      clean(r.name),
      ...slot,
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
