// A running run's summary, kept up to date as its samples come: each sample is folded in once, so a
// partial summary costs what the new samples cost, where summarizeRun goes over the whole trace
// (~1 µs a sample: a one-hour run at 10 Hz, 36 ms, again at every refresh). Pure.
//
// Bit for bit the summary summarizeRun makes of the same samples with no end, no node samples and no
// final counter read (a running run's partial summary): every figure below is accumulated in the
// order and with the operations summarizeRun uses (auc.ts, cpu.ts, stats.ts, flare-formulas.ts), and
// the summary is assembled by the same function (assembleSummary). Where the two would part, the
// accumulator says it cannot tell (summary() returns null) and the caller summarises the whole trace:
// a run past its time limit (its figures are cut at the limit, interpolated between two samples) and
// a sample older than the one before it (summarizeRun sorts the trace first).
import { isKnown, segmentAreaAbove, type CurveFigures } from './auc.js';
import { exceedsTimeLimit } from './limit.js';
import { officialCurve, flareFormulasOf, type OfficialCurve } from './flare-formulas.js';
import { countRounded, stableMaxOfCounts } from './stats.js';
import { assembleSummary, assertNCpu, type CpuFigures, type SummaryVerdictInput } from './summary.js';
import type { RunSample, RunSummary } from './types.js';

/** One curve's area (above a threshold, or plain), max and gap counts, as curveFigures makes them. */
class CurveAccumulator {
  private area = 0;
  private max: number | null = null;
  private knownCount = 0;
  private count = 0;
  private prevSeconds = 0;
  private prevValue: number | null = null;

  constructor(private readonly threshold: number | null) {}

  add(tSeconds: number, value: number | null): void {
    const v = isKnown(value) ? value : null;
    if (v !== null) {
      this.knownCount++;
      if (this.max === null || v > this.max) this.max = v;
    }
    if (this.prevValue !== null && v !== null) {
      const dtSeconds = tSeconds - this.prevSeconds;
      // The same segment sums as areaUnder and clippedAreaAbove, in the same order.
      if (this.threshold !== null) this.area += segmentAreaAbove(dtSeconds, this.prevValue, v, this.threshold);
      else if (dtSeconds > 0) this.area += ((this.prevValue + v) / 2) * dtSeconds;
    }
    this.count++;
    this.prevSeconds = tSeconds;
    this.prevValue = v;
  }

  figures(): CurveFigures {
    return { area: this.knownCount === 0 ? null : this.area, max: this.max, knownCount: this.knownCount, unknownCount: this.count - this.knownCount };
  }
}

/** The cumulative CPU counter made monotone across resets, and its largest interval utilisation (cpu.ts). */
class CpuAccumulator {
  private offsetSeconds = 0;
  private prevRaw: number | null = null;
  private lastSeconds: number | null = null;
  private lastCpuSeconds: number | null = null;
  private maxCorePct: number | null = null;
  resetCount = 0;
  known = 0;
  unknown = 0;

  add(tSeconds: number, raw: number | null): void {
    if (!isKnown(raw)) {
      this.unknown++;
      return;
    }
    this.known++;
    if (this.prevRaw !== null && raw < this.prevRaw) {
      this.offsetSeconds += this.prevRaw;
      this.resetCount++;
    }
    this.prevRaw = raw;
    const cpuSeconds = raw + this.offsetSeconds;
    if (this.lastSeconds !== null && this.lastCpuSeconds !== null) {
      const dtSeconds = tSeconds - this.lastSeconds;
      if (dtSeconds > 0) {
        const corePct = (100 * (cpuSeconds - this.lastCpuSeconds)) / dtSeconds;
        if (this.maxCorePct === null || corePct > this.maxCorePct) this.maxCorePct = corePct;
      }
    }
    this.lastSeconds = tSeconds;
    this.lastCpuSeconds = cpuSeconds;
  }

  figures(): CpuFigures {
    return { cpuSeconds: this.lastCpuSeconds, maxCorePct: this.maxCorePct, lastReadSeconds: this.lastSeconds, resetCount: this.resetCount };
  }
}

/** FLARE's sum, stable max and max of the run's device-level GPU memory (flareFormulasBlock's GPU curve). */
class OfficialGpuAccumulator {
  private total = 0;
  private max: number | null = null;
  private readonly counts = new Map<number, number>();
  private n = 0;

  add(value: number | null): void {
    if (!isKnown(value)) return;
    this.total += value;
    if (this.max === null || value > this.max) this.max = value;
    countRounded(this.counts, value);
    this.n++;
  }

  curve(nominalIntervalSeconds: number): OfficialCurve {
    if (this.n === 0) return officialCurve([], nominalIntervalSeconds);
    return { auc: this.total * nominalIntervalSeconds, stableMax: stableMaxOfCounts(this.counts, this.n), max: this.max };
  }
}

/** What a running run's summary does not take from its samples: its start, limit and settings. */
export interface RunningSummaryInput {
  startedMonoNs: number;
  intervalMs: number;
  timeLimitSeconds: number | null;
  gpuToleranceMiB: number;
}

export class RunningSummary {
  private readonly gpu: CurveAccumulator;
  private readonly gpuDevice: CurveAccumulator;
  private readonly ram = new CurveAccumulator(null);
  private readonly cpu = new CpuAccumulator();
  private readonly official = new OfficialGpuAccumulator();
  private firstSeconds: number | undefined;
  private lastSeconds: number | undefined;
  private count = 0;
  /** A sample came out of time order (or at a time that is not a number): only the whole trace can tell. */
  private unordered = false;

  constructor(private readonly input: RunningSummaryInput) {
    this.gpu = new CurveAccumulator(input.gpuToleranceMiB);
    this.gpuDevice = new CurveAccumulator(input.gpuToleranceMiB);
  }

  /** How many samples have been folded in: the caller's next one is samples[folded]. */
  get folded(): number {
    return this.count;
  }

  add(s: RunSample): void {
    this.count++;
    // The start is subtracted in ns before scaling, as toRows does.
    const tSeconds = (s.monoNs - this.input.startedMonoNs) / 1e9;
    if (!Number.isFinite(tSeconds) || (this.lastSeconds !== undefined && tSeconds < this.lastSeconds)) this.unordered = true;
    if (this.unordered) return;
    this.firstSeconds ??= tSeconds;
    this.lastSeconds = tSeconds;
    this.cpu.add(tSeconds, s.cpuSeconds);
    this.gpu.add(tSeconds, s.gpuMiB);
    this.gpuDevice.add(tSeconds, s.gpuDeviceMiB);
    this.ram.add(tSeconds, s.ramMiB);
    this.official.add(s.gpuDeviceMiB);
  }

  /** Folds in samples[folded ..]: the run's trace as it grows. */
  addFrom(samples: readonly RunSample[]): void {
    for (let i = this.count; i < samples.length; i++) this.add(samples[i]);
  }

  /**
   * The run's summary so far, as summarizeRun would make it of the same samples while the run runs;
   * null where only the whole trace can tell (past the time limit, or samples out of order).
   */
  summary(verdict: SummaryVerdictInput): RunSummary | null {
    assertNCpu(verdict.nCpu);
    if (this.unordered) return null;
    const endSeconds = Math.max(0, this.lastSeconds ?? 0);
    if (exceedsTimeLimit(endSeconds, this.input.timeLimitSeconds)) return null;
    const nominalIntervalSeconds = this.input.intervalMs / 1000;
    const none = officialCurve([], nominalIntervalSeconds); // no node samples in a running run's summary
    return assembleSummary(verdict, {
      wallSeconds: endSeconds,
      effectiveEndSeconds: endSeconds,
      exceededTimeLimit: false,
      cpu: this.cpu.figures(),
      gpu: this.gpu.figures(),
      gpuDevice: this.gpuDevice.figures(),
      ram: this.ram.figures(),
      cpuKnown: this.cpu.known,
      cpuUnknown: this.cpu.unknown,
      firstUsedSeconds: this.firstSeconds,
      lastUsedSeconds: this.lastSeconds,
      sampleCount: this.count,
      flareFormulas: flareFormulasOf(nominalIntervalSeconds, this.count, this.official.curve(nominalIntervalSeconds), none, none),
    });
  }
}
