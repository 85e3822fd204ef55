// The official efficiency CSV in a profile's columns (docs/scoring.md). Pure: figures come in.
import type { OfficialFigures } from '../core/types.js';
import { csvLine, formatNumber } from '../export/csv.js';
import { COLUMN_KEYS, type ColumnKey, type OfficialProfile } from './profile.js';

export interface OfficialRow {
  team: string;
  case: string;
  figures: OfficialFigures;
}

/** Enough decimals that numpy-rounded values print as they are (unrounded FLARE21 values keep 6). */
const fmt = (v: number | null, decimals: number | null): string => formatNumber(v, decimals ?? 6);

function cell(key: ColumnKey, r: OfficialRow, p: OfficialProfile): string {
  const f = r.figures;
  const d = p.rounding;
  switch (key) {
    case 'name': return `${r.case}${p.nameSuffix}`;
    case 'time': return fmt(f.timeSeconds, d.time);
    case 'gpuMax': return fmt(f.maxGpuMiB, d.gpuMax);
    case 'gpuAuc': return fmt(f.aucGpuMiBs, d.gpuAuc);
    case 'cpuMax': return fmt(f.maxCpuPct, d.cpuMax);
    case 'cpuAuc': return fmt(f.aucCpuPctS, d.cpuAuc);
    case 'ramMax': return fmt(f.maxRamMiB, d.ramMax);
    case 'ramAuc': return fmt(f.aucRamMiBs, d.ramAuc);
  }
}

/** The header in the profile's column names, with a leading Team column when several teams share the file. */
export function officialHeader(p: OfficialProfile, withTeam: boolean): string[] {
  const cols = COLUMN_KEYS.filter((k) => p.columns[k] !== undefined).map((k) => p.columns[k] as string);
  return withTeam ? ['Team', ...cols] : cols;
}

export function officialCsv(rows: readonly OfficialRow[], p: OfficialProfile, withTeam: boolean): string {
  const keys = COLUMN_KEYS.filter((k) => p.columns[k] !== undefined);
  let out = csvLine(officialHeader(p, withTeam));
  for (const r of rows) {
    const cells = keys.map((k) => cell(k, r, p));
    // Numbers are already text; the name goes through csvField's quoting and formula guard.
    out += csvLine(withTeam ? [r.team, ...cells] : cells);
  }
  return out;
}
