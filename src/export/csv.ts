// CSV building blocks shared by the API, the `export` CLI and the web page. Pure.
import type { Run, RunSample } from '../core/types.js';
import { BIDI_CHARS } from '../core/text.js';

/**
 * Fields from untrusted names that a spreadsheet would run as a formula get a leading quote: those
 * whose first non-space character is = + - @ (spreadsheets skip leading spaces: ` =1+1` is a formula
 * too), and those starting with a tab or CR (OWASP "CSV injection").
 */
// Zero-width characters (U+200B, U+2060, U+FEFF) in front hide nothing from a spreadsheet, and the
// fullwidth forms of = + - @ (U+FF1D, U+FF0B, U+FF0D, U+FF20) are read as the plain ones by some.
// Numbers are never guarded: -0.25 is a number, not a formula.
const FORMULA_START = /^[\s\u200b\u2060\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r]/;

export function csvField(value: string | number | null | undefined, decimals = 3): string {
  if (value == null) return '';
  if (typeof value === 'number') return formatNumber(value, decimals);
  // Bidi controls could make a viewer show a cell other than what it holds: never written.
  const plain = value.replace(BIDI_CHARS, '');
  const safe = FORMULA_START.test(plain) ? `'${plain}` : plain;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV line; numbers with at most `decimals` decimals (trailing zeros trimmed). */
export function csvLine(fields: (string | number | null | undefined)[], decimals = 3): string {
  return fields.map((f) => csvField(f, decimals)).join(',') + '\n';
}

/** Fixed decimals with trailing zeros trimmed; null or non-finite → empty field. */
export function formatNumber(value: number | null | undefined, decimals = 3): string {
  if (value == null || !Number.isFinite(value)) return '';
  const s = value.toFixed(decimals);
  const trimmed = s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  return trimmed === '-0' ? '0' : trimmed;
}

/** Header of a run's samples CSV; units are in the names (t_s: seconds since the run started). */
export const SAMPLE_CSV_HEADER = 't_s,wall_ms,cpu_seconds,ram_mib,gpu_mib,gpu_device_mib\n';

export function sampleCsvLine(run: Pick<Run, 'startedMonoNs'>, s: RunSample): string {
  return [
    formatNumber((s.monoNs - run.startedMonoNs) / 1e9, 6),
    formatNumber(s.wallMs, 0),
    formatNumber(s.cpuSeconds, 6),
    formatNumber(s.ramMiB, 3),
    formatNumber(s.gpuMiB, 3),
    formatNumber(s.gpuDeviceMiB, 3),
  ].join(',') + '\n';
}

/** A sample as served in JSON: the stored fields plus tS (seconds since the run started). */
export function sampleJson(run: Pick<Run, 'startedMonoNs'>, s: RunSample): Record<string, number | null> {
  return {
    tS: (s.monoNs - run.startedMonoNs) / 1e9,
    monoNs: s.monoNs,
    wallMs: s.wallMs,
    cpuSeconds: s.cpuSeconds,
    ramMiB: s.ramMiB,
    gpuMiB: s.gpuMiB,
    gpuDeviceMiB: s.gpuDeviceMiB,
  };
}

/** Columns of the runs table (`runs --csv`, `export --format csv`): RunJson keys, nested ones dotted. */
export const RUN_CSV_COLUMNS = [
  'id', 'team', 'case', 'node', 'container', 'status', 'startedAt', 'endedAt', 'timeLimitSeconds',
  'terminationReason', 'exitCode', 'exceededTimeLimit', 'wallSeconds', 'cpuSeconds', 'nCpu', 'aucCpuPctS',
  'maxCpuPct', 'aucGpuMiBs', 'maxGpuMiB', 'aucGpuDeviceMiBs', 'maxGpuDeviceMiB', 'aucRamMiBs', 'maxRamMiB',
  'scoring.timeSeconds', 'scoring.aucGpuMiBs', 'scoring.aucCpuPctS', 'scoring.penalised', 'sampleCount',
  // GPU counters (docs/gpu-accounting.md); empty where the agent had no NVML.
  'peakGpuMiBAccounting', 'gpuSpikeMissed', 'gpuTimeSeconds', 'gpuEnergyJ', 'gpuEnergyMethod',
  'gpuSharedAtStart.processes', 'gpuSharedAtStart.usedMiB', 'flags',
  // The run's figure-like facts (core/run-facts.ts); empty where they do not apply.
  'createdBeforeStartSeconds', 'removedAfterEndSeconds', 'attachedLateSeconds', 'samplesDropped', 'oomNamedBy',
  'gpuUnseenProcesses', 'gpuProcessesUnknown', 'gpuProcessCount',
] as const;

function pick(obj: Record<string, unknown>, path: string): string | number | null {
  let v: unknown = obj;
  for (const part of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return v.join(';');
  return null;
}

export function runsCsv(runs: Record<string, unknown>[]): string {
  let out = csvLine([...RUN_CSV_COLUMNS]);
  for (const r of runs) out += csvLine(RUN_CSV_COLUMNS.map((c) => pick(r, c)));
  return out;
}
