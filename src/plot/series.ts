// A run's trace as the three curves the plots and the web page draw (GPU memory, CPU, RAM against
// time since the run's start), with the figures their legends quote. Pure.
import { correctCounterResets, intervalCorePct, type CounterPoint } from '../core/cpu.js';
import { toRows } from '../core/timeline.js';
import type { Run, RunSample } from '../core/types.js';

export type PanelKind = 'gpu' | 'cpu' | 'ram';
export const PANEL_KINDS: readonly PanelKind[] = ['gpu', 'cpu', 'ram'];

export interface Line {
  label: string;
  /** Same length as the panel's tSeconds; null = gap. */
  values: (number | null)[];
  dashed: boolean;
}

export interface Panel {
  kind: PanelKind;
  title: string;
  yUnit: string;
  tSeconds: number[];
  lines: Line[];
  /** Horizontal line with the area of the first line above it shaded (GPU tolerance). */
  threshold: { value: number; label: string } | null;
  /** Legend rows: "exact AUC …", "FLARE22 formulas AUC …". */
  legend: string[];
}

export interface RunPlot {
  runId: string;
  title: string;
  timeLimitSeconds: number | null;
  endSeconds: number;
  panels: Panel[];
}

const fmt = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * Host-normalised CPU % (FLARE unit) per sample, from the cumulative counter: the value of the
 * interval ending at each sample, null for the first sample and where the counter was unreadable.
 */
export function cpuHostPctSeries(tSeconds: readonly number[], cpuSeconds: readonly (number | null)[], nCpu: number): (number | null)[] {
  const raw: CounterPoint[] = [];
  const indexOf: number[] = [];
  tSeconds.forEach((t, i) => {
    const c = cpuSeconds[i];
    if (c !== null) {
      raw.push({ tSeconds: t, cpuSeconds: c });
      indexOf.push(i);
    }
  });
  const { points } = correctCounterResets(raw);
  const out: (number | null)[] = tSeconds.map(() => null);
  const util = intervalCorePct(points);
  let u = 0;
  for (let k = 1; k < points.length; k++) {
    // intervalCorePct skips pairs with Δt ≤ 0: match by end time.
    if (u < util.length && util[u].t1Seconds === points[k].tSeconds) out[indexOf[k]] = util[u++].corePct / Math.max(1, nCpu);
  }
  return out;
}

/** The three panels of one run. `samples` are the stored ticks, any order. */
export function runPlot(run: Run, samples: readonly RunSample[]): RunPlot {
  const rows = toRows(samples, run.startedMonoNs);
  const t = rows.map((r) => r.tSeconds);
  const s = run.summary;
  const endSeconds = run.endedMonoNs !== null ? (run.endedMonoNs - run.startedMonoNs) / 1e9 : (t.at(-1) ?? 0);
  const tolerance = s?.gpuToleranceMiB ?? 2048;
  const gpuLines: Line[] = [];
  if (rows.some((r) => r.gpuMiB !== null)) gpuLines.push({ label: 'run processes (exact)', values: rows.map((r) => r.gpuMiB), dashed: false });
  if (rows.some((r) => r.gpuDeviceMiB !== null)) gpuLines.push({ label: 'device used (official source)', values: rows.map((r) => r.gpuDeviceMiB), dashed: true });
  const gpu: Panel = {
    kind: 'gpu',
    title: 'GPU memory',
    yUnit: 'MiB',
    tSeconds: t,
    lines: gpuLines,
    threshold: { value: tolerance, label: `tolerance ${fmt(tolerance)} MiB` },
    legend: [
      `exact AUC above tolerance: ${fmt(s?.aucGpuMiBs)} MiB·s, max ${fmt(s?.maxGpuMiB)} MiB`,
      `FLARE22 formulas AUC (device, sum × ${fmt(s?.flareFormulas.nominalIntervalSeconds, 2)} s): ${fmt(s?.flareFormulas.aucGpuMiBs)} MiB·s`,
    ],
  };
  const nCpu = run.nCpu;
  const cpu: Panel = {
    kind: 'cpu',
    title: `CPU utilisation (% of host, ${nCpu} CPUs)`,
    yUnit: '%',
    tSeconds: t,
    lines: [{ label: 'container (cgroup counter)', values: cpuHostPctSeries(t, rows.map((r) => r.cpuSeconds), nCpu), dashed: false }],
    threshold: null,
    legend: [
      `exact AUC: ${fmt(s?.aucCpuPctS)} %·s (cpu ${fmt(s?.cpuSeconds, 2)} s), max ${fmt(s?.maxCpuPct, 1)} %`,
      `FLARE22 formulas AUC (host-wide): ${fmt(s?.flareFormulas.aucCpuPctS)} %·s`,
    ],
  };
  const ram: Panel = {
    kind: 'ram',
    title: 'RAM (working set)',
    yUnit: 'MiB',
    tSeconds: t,
    lines: [{ label: 'container working set', values: rows.map((r) => r.ramMiB), dashed: false }],
    threshold: null,
    legend: [
      `exact AUC: ${fmt(s?.aucRamMiBs)} MiB·s, max ${fmt(s?.maxRamMiB, 1)} MiB`,
      `FLARE22 formulas AUC (host-wide): ${fmt(s?.flareFormulas.aucRamMiBs)} MiB·s`,
    ],
  };
  return {
    runId: run.id,
    title: `${run.team} / ${run.case} (${run.status})`,
    timeLimitSeconds: run.timeLimitSeconds,
    endSeconds,
    panels: [gpu, cpu, ram],
  };
}
