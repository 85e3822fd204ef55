// The FLARE efficiency CSVs in the organisers' column layouts (docs/scoring.md). Pure.
// Memory figures are MiB (the official scripts divide bytes by 1024² but label it "MB").
import type { Run, RunFilter, RunSummary } from '../core/types.js';
import { csvLine } from './csv.js';
import { fileNamePart } from './file-names.js';
import { eachRunPage, type Store } from '../store/index.js';

export type FlareLayout = 'flare22' | 'flare24';
/**
 * exact: our per-container figures, penalties for runs over the limit (this file); official: the
 * organisers' monitor modelled under a challenge profile (src/official/).
 */
export type FlareFigures = 'exact' | 'official';

export const FLARE_HEADERS: Record<FlareLayout, string[]> = {
  flare22: ['Name', 'Time', 'GPU_Mem', 'AUC_GPU_Time', 'CPU_Utilization', 'AUC_CPU_Time', 'RAM', 'AUC_RAM_Time'],
  flare24: ['Name', 'Time', 'MaxGPU_Mem', 'AUC_GPU_Time', 'MaxCPU_Utilization', 'AUC_CPU_Time', 'MaxRAM', 'AUC_RAM_Time'],
};

type Row = (string | number | null)[];

function exactRow(name: string, s: RunSummary): Row {
  // FLARE22 and FLARE24 differ only in how the official max is taken; ours is one plain maximum.
  return [name, s.scoring.timeSeconds, s.maxGpuMiB, s.scoring.aucGpuMiBs, s.maxCpuPct, s.scoring.aucCpuPctS, s.maxRamMiB, s.aucRamMiBs];
}

/** Finished runs with a summary, oldest first (a case run twice gives two rows in run order). */
export function flareRuns(runs: Run[]): (Run & { summary: RunSummary })[] {
  return runs.filter((r): r is Run & { summary: RunSummary } => r.status !== 'running' && r.summary != null).sort(byStart);
}

/** The files' order: oldest first, then by id. */
export const byStart = (a: { startedWallMs: number; id: string }, b: { startedWallMs: number; id: string }): number =>
  a.startedWallMs - b.startedWallMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The exact figures' CSV text. With `withTeam` a leading Team column is added: the official files are
 * one per team, so a CSV over several teams needs it to stay unambiguous.
 */
export function flareCsv(runs: Run[], layout: FlareLayout, withTeam: boolean): string {
  return flareHeader(layout, withTeam) + flareLines(runs, withTeam).map((l) => l.line).join('');
}

/** The same CSV over every run matching a filter, read a page at a time (eachRunPage). */
export function flareCsvOfFilter(store: Pick<Store, 'listRuns'>, filter: RunFilter, layout: FlareLayout, withTeam: boolean, perPage?: number): string {
  const lines: ReturnType<typeof flareLines> = [];
  eachRunPage(store, filter, (page) => lines.push(...flareLines(page, withTeam)), perPage);
  return flareHeader(layout, withTeam) + lines.sort(byStart).map((l) => l.line).join('');
}

const flareHeader = (layout: FlareLayout, withTeam: boolean): string => csvLine(withTeam ? ['Team', ...FLARE_HEADERS[layout]] : FLARE_HEADERS[layout]);

/** One line per finished run, in the files' order, with what orders it. */
function flareLines(runs: Run[], withTeam: boolean): { startedWallMs: number; id: string; line: string }[] {
  return flareRuns(runs).map((run) => {
    const row = exactRow(run.case, run.summary);
    return { startedWallMs: run.startedWallMs, id: run.id, line: csvLine(withTeam ? [run.team, ...row] : row) };
  });
}

/** The official file name for one team's CSV (readable, hashed where sanitising changed it: file-names.ts). */
export function flareFileName(team: string): string {
  return `${fileNamePart(team)}${FLARE_FILE_SUFFIX}`;
}

export const FLARE_FILE_SUFFIX = '_Efficiency.csv';
