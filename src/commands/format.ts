// Human-readable run summary for the terminal.
import { factLines } from '../core/run-facts.js';
import type { Run } from '../core/types.js';

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? '—' : v.toFixed(digits));

export function formatSummaryTable(run: Run, method?: string): string {
  const s = run.summary;
  if (!s) return `run ${run.id}: ${run.status} (no summary yet)\n`;
  const rows: [string, string][] = [
    ['run', run.id],
    ['status', `${s.status}${s.terminationReason ? ` (${s.terminationReason})` : ''}${s.exitCode !== null ? `, exit ${s.exitCode}` : ''}`],
    ['wallSeconds', fmt(s.wallSeconds, 3)],
    ['cpuSeconds', fmt(s.cpuSeconds, 3)],
    ['aucCpuPctS (host-normalised, FLARE unit)', `${fmt(s.aucCpuPctS, 1)}  (nCpu ${s.nCpu})`],
    ['maxCpuPct / maxCpuCorePct', `${fmt(s.maxCpuPct, 1)} / ${fmt(s.maxCpuCorePct, 1)}`],
    ['maxGpuMiB / aucGpuMiBs', `${fmt(s.maxGpuMiB, 0)} / ${fmt(s.aucGpuMiBs, 1)}  (tolerance ${s.gpuToleranceMiB} MiB)`],
    ['maxGpuDeviceMiB / aucGpuDeviceMiBs', `${fmt(s.maxGpuDeviceMiB, 0)} / ${fmt(s.aucGpuDeviceMiBs, 1)}`],
    ['maxRamMiB / aucRamMiBs', `${fmt(s.maxRamMiB, 1)} / ${fmt(s.aucRamMiBs, 1)}`],
    ['samples', `${s.sampleCount} every ${s.intervalMs} ms, covered ${fmt(s.coveredSeconds, 3)} s, unsampled head ${fmt(s.unsampledHeadSeconds, 3)} s / tail ${fmt(s.unsampledTailSeconds, 3)} s`],
    ['time limit', s.timeLimitSeconds === null ? 'none' : `${s.timeLimitSeconds} s${s.exceededTimeLimit ? ' — EXCEEDED' : ''}`],
    ['scoring (time / AUC GPU / AUC CPU)', `${fmt(s.scoring.timeSeconds, 3)} / ${fmt(s.scoring.aucGpuMiBs, 1)} / ${fmt(s.scoring.aucCpuPctS, 1)}${s.scoring.penalised ? '  (penalties)' : ''}`],
    ['FLARE22 formulas over the run span: AUC GPU / CPU / RAM', `${fmt(s.flareFormulas.aucGpuMiBs, 1)} / ${fmt(s.flareFormulas.aucCpuPctS, 1)} / ${fmt(s.flareFormulas.aucRamMiBs, 1)}`],
  ];
  if (method) rows.push(['measured by', method]);
  if (s.flags.length) rows.push(['flags', s.flags.join(', ')]);
  rows.push(...factLines(s));
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}
