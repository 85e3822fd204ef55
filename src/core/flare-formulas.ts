// FLARE's own formulas (its Efficiency.py's sums, maxima and host CPU %) over our stored trace of one
// run (docs/scoring.md), so a FLARE-style number can be set beside the exact one. The official figures
// build on the same formulas with the organisers' span and loop modelled (src/official/). Pure.
import { isKnown } from './auc.js';
import { maxOrNull, stableMax, sum } from './stats.js';
import type { HostCpuTimes, NodeSample, FlareFormulasBlock, RunSample } from './types.js';

/** The constant FLARE's Efficiency.py adds to the denominator (seconds of CPU time). */
export const FLARE_CPU_DENOMINATOR_PAD_SECONDS = 0.1;

/**
 * Host CPU "used %" between two cumulative cpu_times readings, exactly as FLARE's Efficiency.py:
 * `100 − 100·Δidle / (Δuser + Δsystem + Δidle + 0.1)`. Only psutil's user/system/idle fields take
 * part (nice, iowait, irq, … are ignored, as there). The +0.1 s makes an idle host read busy:
 * on 2 CPUs over 0.1 s, Δidle = 0.2 s gives 100 − 100·0.2/0.3 ≈ 33 %.
 */
export function hostCpuUsedPct(prev: HostCpuTimes, next: HostCpuTimes): number {
  const dUserSeconds = next.userSeconds - prev.userSeconds;
  const dSystemSeconds = next.systemSeconds - prev.systemSeconds;
  const dIdleSeconds = next.idleSeconds - prev.idleSeconds;
  const denominatorSeconds = dUserSeconds + dSystemSeconds + dIdleSeconds + FLARE_CPU_DENOMINATOR_PAD_SECONDS;
  return 100 - (100 * dIdleSeconds) / denominatorSeconds;
}

/** Host CPU used % for each consecutive pair of node samples (n samples → n − 1 values). */
export function hostCpuUsedPctSeries(nodeSamples: readonly NodeSample[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < nodeSamples.length; i++) {
    const pct = hostCpuUsedPct(nodeSamples[i - 1].cpu, nodeSamples[i].cpu);
    if (Number.isFinite(pct)) out.push(pct);
  }
  return out;
}

export interface OfficialCurve {
  auc: number | null;
  stableMax: number | null;
  max: number | null;
}

/** FLARE's figures for one curve: sum × nominal interval, stable max (FLARE22), plain max (FLARE24). */
export function officialCurve(values: readonly number[], nominalIntervalSeconds: number): OfficialCurve {
  if (values.length === 0) return { auc: null, stableMax: null, max: null };
  return { auc: sum(values) * nominalIntervalSeconds, stableMax: stableMax(values), max: maxOrNull(values) };
}

/**
 * FLARE22's formulas over the run's own span. GPU: the run's device-level used memory (NVML total − free, as
 * FLARE read it), summed raw: FLARE's AUC_GPU_Time has no tolerance subtracted. CPU and RAM are
 * host-wide, from the node samples given (the caller picks those over the run's span).
 * Not cut at the time limit: FLARE's monitor ran until the container ended.
 * sampleCount is the number of ticks in the official trace: run and node samples come from the
 * same ticks, so it is the larger of the two counts (they differ only when a source was down).
 */
export function flareFormulasBlock(
  samples: readonly RunSample[],
  nodeSamples: readonly NodeSample[],
  intervalMs: number,
): FlareFormulasBlock {
  const nominalIntervalSeconds = intervalMs / 1000;
  const gpu = officialCurve(
    samples.map((s) => s.gpuDeviceMiB).filter(isKnown),
    nominalIntervalSeconds,
  );
  const cpu = officialCurve(hostCpuUsedPctSeries(nodeSamples), nominalIntervalSeconds);
  const ram = officialCurve(
    nodeSamples.map((s) => s.memUsedMiB).filter(isKnown),
    nominalIntervalSeconds,
  );
  return flareFormulasOf(nominalIntervalSeconds, Math.max(samples.length, nodeSamples.length), gpu, cpu, ram);
}

/** The block from each curve's figures (a running run's accumulator builds it from its own: running-summary.ts). */
export function flareFormulasOf(nominalIntervalSeconds: number, sampleCount: number, gpu: OfficialCurve, cpu: OfficialCurve, ram: OfficialCurve): FlareFormulasBlock {
  return {
    nominalIntervalSeconds,
    sampleCount,
    aucGpuMiBs: gpu.auc,
    maxGpuStableMiB: gpu.stableMax,
    maxGpuMiB: gpu.max,
    aucCpuPctS: cpu.auc,
    maxCpuStablePct: cpu.stableMax,
    maxCpuPct: cpu.max,
    aucRamMiBs: ram.auc,
    maxRamStableMiB: ram.stableMax,
    maxRamMiB: ram.max,
  };
}
