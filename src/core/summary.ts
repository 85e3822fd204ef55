// The per-run summary (docs/measurement.md §2) from a run's samples: the one entry point the sampler calls,
// at the run's end and periodically while it runs. Pure: no clock, no I/O.
import { curveFigures, type CurveFigures, type CurvePoint } from './auc.js';
import { withGpuReadings, type RunGpuReadings } from './gpu-run.js';
import { factsOf, type RunFacts, type RunFlag } from './run-facts.js';
import { exceedsTimeLimit } from './limit.js';
import { correctCounterResets, counterAtSeconds, intervalCorePct, type CounterPoint } from './cpu.js';
import { flareFormulasBlock } from './flare-formulas.js';
import { maxOrNull } from './stats.js';
import { cutRowsAt, toRows, type SampleRow } from './timeline.js';
import type {
  FlareFormulasBlock,
  NodeSample,
  Penalties,
  RunSample,
  RunStatus,
  RunSummary,
  ScoringBlock,
  TerminationReason,
} from './types.js';

export interface SummaryInput {
  /** Run start on CLOCK_MONOTONIC (ns). */
  startedMonoNs: number;
  /** null while running: the last sample's time is used as the end. */
  endedMonoNs: number | null;
  /** This run's ticks, ascending monoNs. */
  samples: RunSample[];
  /** Host ticks over the run's span (feed the official-compatible block only). */
  nodeSamples: NodeSample[];
  /** Online CPUs of the node (≥ 1). */
  nCpu: number;
  /** Configured sampling interval: the "nominal" interval of the official block. */
  intervalMs: number;
  timeLimitSeconds: number | null;
  /** Usually DEFAULT_GPU_TOLERANCE_MIB (2048). */
  gpuToleranceMiB: number;
  /** Usually FLARE22_PENALTIES. */
  penalties: Penalties;
  /** Status as observed; see resolveStatus for how 'timeout' is derived. */
  status: RunStatus;
  terminationReason: TerminationReason | null;
  exitCode: number | null;
  /** Docker's FinishedAt − StartedAt when known (more exact than our clocks). */
  wallSecondsOverride?: number;
  /**
   * The CPU counter read once more after the run's processes ended (the cgroup outlived them): exact
   * cpuSeconds at the end. It feeds the CPU figures only; the memory curves stay as sampled.
   */
  finalCpu?: { monoNs: number; cpuSeconds: number };
  /** Caveats from the adapters, passed through first (e.g. 'attached-late', 'gpu-unavailable'). */
  flags?: RunFlag[];
  /**
   * The GPU counters read for the run (accounting, energy, sharing: gpu/run-gpu.ts), when a GPU source
   * has them: their fields and flags join the summary here, so a summary is made in one call.
   */
  gpu?: RunGpuReadings | null;
  /** The run's facts (core/run-facts.ts), carried into the summary as they are. */
  facts?: RunFacts;
}

/**
 * A run over its limit is 'timeout' whatever else ended it (the reason stays in terminationReason,
 * e.g. 'oom' or 'agent interrupted'), except while still 'running': the run has not ended, and
 * exceededTimeLimit plus the penalised scoring already say it is over. An 'interrupted' run turned
 * 'timeout' gets the flag 'interrupted', so its partial data stays marked.
 */
export const INTERRUPTED_PAST_LIMIT_FLAG: RunFlag = 'interrupted';

export function resolveStatus(observed: RunStatus, exceededTimeLimit: boolean): { status: RunStatus; flags: RunFlag[] } {
  if (!exceededTimeLimit || observed === 'running') return { status: observed, flags: [] };
  return { status: 'timeout', flags: observed === 'interrupted' ? [INTERRUPTED_PAST_LIMIT_FLAG] : [] };
}

export interface CpuFigures {
  /** null: no counter reading at all (unreadable, or no counter): unknown, never 0. */
  cpuSeconds: number | null;
  maxCorePct: number | null;
  /** Time of the last counter reading used (the cut counts as one when interpolated); null: none. */
  lastReadSeconds: number | null;
  resetCount: number;
}

/**
 * CPU from the cumulative counter: its value at the end (or interpolated at the cut), made
 * monotone across resets. Only readings up to the first one past the cut take part.
 */
function cpuFigures(rows: readonly SampleRow[], cutSeconds: number | null): CpuFigures {
  const raw: CounterPoint[] = [];
  for (const r of rows) {
    if (r.cpuSeconds === null) continue;
    raw.push({ tSeconds: r.tSeconds, cpuSeconds: r.cpuSeconds });
    if (cutSeconds !== null && r.tSeconds > cutSeconds) break;
  }
  const { points, resetCount } = correctCounterResets(raw);
  const last = points[points.length - 1];
  if (cutSeconds === null || last === undefined || last.tSeconds <= cutSeconds) {
    const util = intervalCorePct(points);
    return {
      cpuSeconds: last?.cpuSeconds ?? null,
      maxCorePct: maxOrNull(util.map((u) => u.corePct)),
      lastReadSeconds: last?.tSeconds ?? null,
      resetCount,
    };
  }
  const cpuSeconds = counterAtSeconds(points, cutSeconds);
  const upToCut = points.filter((p) => p.tSeconds < cutSeconds);
  upToCut.push({ tSeconds: cutSeconds, cpuSeconds });
  return {
    cpuSeconds,
    maxCorePct: maxOrNull(intervalCorePct(upToCut).map((u) => u.corePct)),
    lastReadSeconds: cutSeconds,
    resetCount,
  };
}

const curve = (rows: readonly SampleRow[], pick: (r: SampleRow) => number | null): CurvePoint[] =>
  rows.map((r) => ({ tSeconds: r.tSeconds, value: pick(r) }));

function scoringBlock(
  penalised: boolean,
  penalties: Penalties,
  wallSeconds: number,
  aucGpuMiBs: number | null,
  aucCpuPctS: number | null,
): ScoringBlock {
  return penalised
    ? { timeSeconds: penalties.timeSeconds, aucGpuMiBs: penalties.aucGpuMiBs, aucCpuPctS: penalties.aucCpuPctS, penalised }
    : { timeSeconds: wallSeconds, aucGpuMiBs, aucCpuPctS, penalised };
}

export function assertNCpu(nCpu: number): void {
  if (!Number.isInteger(nCpu) || nCpu < 1) throw new RangeError(`nCpu must be an integer ≥ 1, got ${nCpu}`);
}

function assertInput(input: SummaryInput): void {
  assertNCpu(input.nCpu);
  if (!Number.isFinite(input.startedMonoNs)) throw new RangeError('startedMonoNs must be finite');
  if (input.endedMonoNs !== null && !Number.isFinite(input.endedMonoNs)) throw new RangeError('endedMonoNs must be finite or null');
  if (input.wallSecondsOverride !== undefined && !Number.isFinite(input.wallSecondsOverride)) {
    throw new RangeError('wallSecondsOverride must be finite');
  }
}

/**
 * Summarises one run (docs/measurement.md §2). No extrapolation: the covered span and the unsampled head and
 * tail are reported instead. Over its time limit, the curves and the CPU counter are taken up to
 * the limit only (interpolated at the cut) and the scoring block carries the penalties.
 * tailCpuBoundSeconds = (end − last CPU counter reading) × nCpu: equal to unsampledTailSeconds × nCpu
 * whenever the last tick read the counter, larger (and honest) when it did not.
 */
export function summarizeRun(input: SummaryInput): RunSummary {
  assertInput(input);
  return assembleSummary(input, sampleFigures(input));
}

/** The verdict's part of a summary's input: everything but the samples and the span's ends. */
export type SummaryVerdictInput = Omit<SummaryInput, 'samples' | 'nodeSamples' | 'startedMonoNs' | 'endedMonoNs' | 'wallSecondsOverride' | 'finalCpu'>;

/**
 * What a run's samples give its summary, whoever computed it: summarizeRun from the whole trace, or a
 * running run's accumulator (running-summary.ts) from the samples folded in so far.
 */
export interface SampleFigures {
  wallSeconds: number;
  /** The end the tail is measured to: the run's end, or the cut at its time limit. */
  effectiveEndSeconds: number;
  exceededTimeLimit: boolean;
  cpu: CpuFigures;
  gpu: CurveFigures;
  gpuDevice: CurveFigures;
  ram: CurveFigures;
  /** Measured rows (the interpolated cut row is not one) with and without a CPU reading. */
  cpuKnown: number;
  cpuUnknown: number;
  /** Times of the first and the last row taken into the curves; undefined: none. */
  firstUsedSeconds: number | undefined;
  lastUsedSeconds: number | undefined;
  sampleCount: number;
  flareFormulas: FlareFormulasBlock;
}

function sampleFigures(input: SummaryInput): SampleFigures {
  const { gpuToleranceMiB, timeLimitSeconds } = input;
  const rows = toRows(input.samples, input.startedMonoNs);
  const lastRow = rows[rows.length - 1];
  const endSeconds =
    input.endedMonoNs !== null ? (input.endedMonoNs - input.startedMonoNs) / 1e9 : Math.max(0, lastRow?.tSeconds ?? 0);
  const wallSeconds = input.wallSecondsOverride ?? endSeconds;

  const exceededTimeLimit = exceedsTimeLimit(wallSeconds, timeLimitSeconds);
  const cutSeconds = exceededTimeLimit ? timeLimitSeconds : null;
  const cut = cutSeconds === null ? null : cutRowsAt(rows, cutSeconds);
  const used = cut === null ? rows : cut.kept;
  const measured = cut?.interpolatedAtCut ? used.slice(0, -1) : used;

  const finalCpuSample = input.finalCpu
    ? { monoNs: input.finalCpu.monoNs, wallMs: 0, cpuSeconds: input.finalCpu.cpuSeconds, ramMiB: null, gpuMiB: null, gpuDeviceMiB: null }
    : null;
  const cpuRows = finalCpuSample ? [...rows, ...toRows([finalCpuSample], input.startedMonoNs)] : rows;
  // The interpolated cut row never carries a CPU value; judge CPU gaps on the measured rows only.
  const cpuKnown = measured.filter((r) => r.cpuSeconds !== null).length;
  return {
    wallSeconds,
    effectiveEndSeconds: cutSeconds === null ? endSeconds : Math.min(endSeconds, cutSeconds),
    exceededTimeLimit,
    cpu: cpuFigures(cpuRows, cutSeconds),
    gpu: curveFigures(curve(used, (r) => r.gpuMiB), gpuToleranceMiB),
    gpuDevice: curveFigures(curve(used, (r) => r.gpuDeviceMiB), gpuToleranceMiB),
    ram: curveFigures(curve(used, (r) => r.ramMiB), null),
    cpuKnown,
    cpuUnknown: measured.length - cpuKnown,
    firstUsedSeconds: used[0]?.tSeconds,
    lastUsedSeconds: used[used.length - 1]?.tSeconds,
    sampleCount: input.samples.length,
    flareFormulas: flareFormulasBlock(input.samples, input.nodeSamples, input.intervalMs),
  };
}

/** The summary from the samples' figures and the verdict: the one place its fields are made. */
export function assembleSummary(input: SummaryVerdictInput, f: SampleFigures): RunSummary {
  const { nCpu, gpuToleranceMiB, timeLimitSeconds, penalties } = input;
  const { cpu, gpu, gpuDevice, ram, exceededTimeLimit, effectiveEndSeconds } = f;
  const { status, flags: statusFlags } = resolveStatus(input.status, exceededTimeLimit);
  const flags = new Set<RunFlag>(input.flags ?? []);
  const partial = (c: { knownCount: number; unknownCount: number }): boolean => c.knownCount > 0 && c.unknownCount > 0;
  if (partial(gpu) || partial(gpuDevice)) flags.add('gpu-unavailable');
  if (partial(ram)) flags.add('ram-unavailable');
  if (f.cpuKnown > 0 && f.cpuUnknown > 0) flags.add('cpu-unavailable');
  if (cpu.resetCount > 0) flags.add('cpu-counter-reset');
  if (exceededTimeLimit) flags.add('cut-at-time-limit');
  for (const flag of statusFlags) flags.add(flag);

  // Clamped at 0: Docker's start and our first tick come from different clocks and may disagree by ms.
  const unsampledTailSeconds = Math.max(0, effectiveEndSeconds - (f.lastUsedSeconds ?? 0));
  const aucCpuPctS = cpu.cpuSeconds === null ? null : (100 * cpu.cpuSeconds) / nCpu;
  const maxCpuCorePct = cpu.maxCorePct;

  const measured: RunSummary = {
    status,
    terminationReason: input.terminationReason,
    exitCode: input.exitCode,
    wallSeconds: f.wallSeconds,
    cpuSeconds: cpu.cpuSeconds,
    nCpu,
    aucCpuPctS,
    aucCpuCorePctS: cpu.cpuSeconds === null ? null : 100 * cpu.cpuSeconds,
    maxCpuPct: maxCpuCorePct === null ? null : maxCpuCorePct / nCpu,
    maxCpuCorePct,
    gpuToleranceMiB,
    aucGpuMiBs: gpu.area,
    maxGpuMiB: gpu.max,
    aucGpuDeviceMiBs: gpuDevice.area,
    maxGpuDeviceMiB: gpuDevice.max,
    aucRamMiBs: ram.area,
    maxRamMiB: ram.max,
    sampleCount: f.sampleCount,
    intervalMs: input.intervalMs,
    coveredSeconds: f.firstUsedSeconds !== undefined && f.lastUsedSeconds !== undefined ? f.lastUsedSeconds - f.firstUsedSeconds : 0,
    unsampledHeadSeconds: Math.max(0, f.firstUsedSeconds ?? 0),
    unsampledTailSeconds,
    tailCpuBoundSeconds: Math.max(0, effectiveEndSeconds - (cpu.lastReadSeconds ?? 0)) * nCpu,
    timeLimitSeconds,
    exceededTimeLimit,
    scoring: scoringBlock(exceededTimeLimit, penalties, f.wallSeconds, gpu.area, aucCpuPctS),
    flareFormulas: f.flareFormulas,
    flags: [...flags],
  };
  const withFacts = { ...measured, ...factsOf(input.facts) };
  return input.gpu ? withGpuReadings(withFacts, input.gpu) : withFacts;
}
