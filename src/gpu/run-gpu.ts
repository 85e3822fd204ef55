// Per-run GPU counters (docs/gpu-accounting.md): at a run's start, the energy counters and who else is on
// its GPUs; on every tick, which pids are the run's and which are not (and power, only where there is
// no energy counter); at its end, the accounting record of each of its processes and the energy used.
// The run manager calls the three hooks; the figures are made by the pure src/core/gpu-run.ts.
import type { AccountedProcess, GpuProcess } from '../core/types.js';
import { resolveGpuRequest } from '../core/gpu-request.js';
import {
  addPowerReading,
  emptyPowerIntegral,
  energyFromCounterJ,
  type PowerIntegral,
  type RunGpuReadings,
} from '../core/gpu-run.js';
import type { GpuSnapshot, GpuSource } from './types.js';
import type { AccountingMode, GpuCounters } from './counters.js';

/** The run manager's view of this module (a hook at start, at each summary, at the end). */
export interface GpuRunHooks {
  started(runId: string, gpuKey: string | null, requestedDevices: readonly string[] | undefined, startedWallMs: number): void;
  /** final: the run has ended (its processes are gone): read the accounting records and the end energy. */
  readings(runId: string, final: boolean, usedGpuIndices: readonly number[], endedWallMs: number | null): RunGpuReadings | null;
  ended(runId: string): void;
  /** Other processes on the run's GPUs at the latest tick, per GPU index. */
  foreignNow?(runId: string, usedGpuIndices: readonly number[]): Record<number, number>;
}

/** Newest accounting pids examined per GPU for records the sampler never saw (bounds the end-of-run cost). */
const UNSEEN_SCAN_LIMIT = 256;

interface Track {
  key: string | null;
  /** GPU indices the run was given (--gpus device=…); null: not restricted. */
  requested: number[] | null;
  startWallMs: number;
  energyStartMj: Map<number, number | null>;
  /** Foreign processes per GPU at the first tick of the run. */
  atStart: Map<number, GpuProcess[]> | null;
  own: Map<string, { pid: number; gpuIndex: number }>;
  foreignPids: Set<number>;
  foreignGpus: Set<number>;
  /** Other processes per GPU index at the latest tick (what "shared now" is read from). */
  foreignNow: Map<number, number>;
  /** Power integrated per GPU that has no energy counter. */
  power: Map<number, PowerIntegral>;
}

const nowSeconds = (): number => performance.now() / 1000;

export class RunGpuRecorder implements GpuRunHooks {
  private readonly tracks = new Map<string, Track>();

  constructor(
    private readonly source: GpuSource,
    private readonly counters: GpuCounters,
  ) {}

  /** The GPUs whose accounting mode is known: on or off (unsupported and unknown ones are in neither). */
  accountingModes(): { on: number[]; off: number[] } {
    const out = { on: [] as number[], off: [] as number[] };
    for (const d of this.source.devices()) {
      const mode = this.counters.accountingMode(d.index);
      if (mode === 'on' || mode === 'off') out[mode].push(d.index);
    }
    return out;
  }

  /** One line for /healthz when accounting is off on some GPU (null when it is on everywhere, or unsupported). */
  accountingNotice(): string | null {
    const { off } = this.accountingModes();
    if (off.length === 0) return null;
    return `NVML accounting is off on GPU ${off.join(', ')}: no exact per-process peaks; the organiser enables it once per driver load, as root: nvidia-smi -am 1 (docs/gpu-accounting.md)`;
  }

  started(runId: string, gpuKey: string | null, requestedDevices: readonly string[] | undefined, startedWallMs: number): void {
    const devices = this.source.devices();
    const energyStartMj = new Map(devices.map((d) => [d.index, this.counters.energyMj(d.index)] as const));
    const power = new Map<number, PowerIntegral>();
    for (const [index, mj] of energyStartMj) if (mj === null) power.set(index, emptyPowerIntegral());
    this.tracks.set(runId, {
      key: gpuKey,
      requested: resolveGpuRequest(requestedDevices ?? [], devices).indices,
      startWallMs: startedWallMs,
      energyStartMj,
      atStart: null,
      own: new Map(),
      foreignPids: new Set(),
      foreignGpus: new Set(),
      foreignNow: new Map(),
      power,
    });
  }

  ended(runId: string): void {
    this.tracks.delete(runId);
  }

  /** Per tick, with the attribution's pid → key lookup. */
  observe(snapshot: GpuSnapshot, keyOf: (pid: number) => string | null): void {
    if (this.tracks.size === 0) return;
    const powerNow = new Map<number, number | null>();
    const t = nowSeconds();
    for (const track of this.tracks.values()) {
      if (track.key !== null) {
        const firstTick = track.atStart === null;
        if (firstTick) track.atStart = new Map();
        track.foreignNow.clear();
        for (const p of snapshot.processes) {
          if (keyOf(p.pid) === track.key) {
            track.own.set(`${p.gpuIndex}:${p.pid}`, { pid: p.pid, gpuIndex: p.gpuIndex });
            continue;
          }
          track.foreignPids.add(p.pid);
          track.foreignGpus.add(p.gpuIndex);
          track.foreignNow.set(p.gpuIndex, (track.foreignNow.get(p.gpuIndex) ?? 0) + 1);
          if (firstTick) {
            const list = track.atStart?.get(p.gpuIndex) ?? [];
            list.push(p);
            track.atStart?.set(p.gpuIndex, list);
          }
        }
      }
      for (const [index, pt] of track.power) {
        if (!powerNow.has(index)) powerNow.set(index, this.counters.powerMw(index));
        addPowerReading(pt, t, powerNow.get(index) ?? null);
      }
    }
  }

  readings(runId: string, final: boolean, usedGpuIndices: readonly number[], endedWallMs: number | null): RunGpuReadings | null {
    const track = this.tracks.get(runId);
    if (!track) return null;
    const gpus = this.runGpus(track, usedGpuIndices);
    const modes = gpus.map((g) => this.counters.accountingMode(g));
    const accountingMode = combineModes(modes);
    let processes: AccountedProcess[] = [];
    let unseen = 0;
    if (final && track.key !== null) {
      ({ processes, unseen } = this.readAccounting(track, gpus, modes, endedWallMs ?? Date.now()));
    }
    return {
      accountingMode,
      processes,
      unseenAccountedProcesses: unseen,
      energy: this.energy(track, gpus),
      sharedDuringRun: gpus.some((g) => track.foreignGpus.has(g)),
      sharedAtStart: sharedAtStart(track, gpus),
    };
  }

  /** The GPUs the run is measured on: those it was given, else those its processes used, else a lone GPU. */
  /**
   * Other processes on the run's GPUs at the latest tick, per GPU index (only GPUs that have some):
   * a GPU shared while the run holds it (measured memory and time are then not the run's alone).
   */
  foreignNow(runId: string, usedGpuIndices: readonly number[]): Record<number, number> {
    const track = this.tracks.get(runId);
    if (!track) return {};
    const out: Record<number, number> = {};
    for (const g of this.runGpus(track, usedGpuIndices)) {
      const n = track.foreignNow.get(g) ?? 0;
      if (n > 0) out[g] = n;
    }
    return out;
  }

  private runGpus(track: Track, usedGpuIndices: readonly number[]): number[] {
    if (track.requested && track.requested.length > 0) return track.requested;
    const used = new Set(usedGpuIndices);
    for (const o of track.own.values()) used.add(o.gpuIndex);
    if (used.size > 0) return [...used].sort((a, b) => a - b);
    const all = this.source.devices().map((d) => d.index);
    return all.length === 1 ? all : [];
  }

  private readAccounting(track: Track, gpus: number[], modes: AccountingMode[], endedWallMs: number): { processes: AccountedProcess[]; unseen: number } {
    const processes: AccountedProcess[] = [];
    const listed = new Map<number, Set<number> | null>();
    const startUs = track.startWallMs * 1000;
    const endUs = endedWallMs * 1000;
    gpus.forEach((g, i) => listed.set(g, modes[i] === 'on' ? (new Set(this.counters.accountingPids(g) ?? [])) : null));
    for (const { pid, gpuIndex } of track.own.values()) {
      const unknown = (record: AccountedProcess['record']): AccountedProcess => ({ pid, gpuIndex, record, peakMiB: null, gpuTimeSeconds: null, gpuUtilPct: null });
      const pids = listed.get(gpuIndex);
      if (pids === undefined || pids === null) {
        processes.push(unknown(this.counters.accountingMode(gpuIndex) === 'on' ? 'error' : 'unavailable'));
        continue;
      }
      // Not in the driver's list: the circular buffer has overwritten it. Unknown, never 0.
      if (!pids.has(pid)) {
        processes.push(unknown('not-in-buffer'));
        continue;
      }
      const r = this.counters.accountingStats(gpuIndex, pid);
      if (r.kind === 'ok' && r.stats.startTimeUs <= endUs) {
        processes.push({ pid, gpuIndex, record: 'ok', peakMiB: r.stats.maxMiB, gpuTimeSeconds: r.stats.gpuTimeSeconds, gpuUtilPct: r.stats.gpuUtilPct });
      } else if (r.kind === 'ok' || r.kind === 'not-found') {
        // A record that began after the run ended belongs to a later process that reused the pid.
        processes.push(unknown('not-in-buffer'));
      } else {
        processes.push(unknown(r.kind === 'unsupported' ? 'unavailable' : 'error'));
      }
    }
    // Records of processes that lived and died between two ticks on the run's GPUs: never attributed.
    let unseen = 0;
    const ownPids = new Set([...track.own.values()].map((o) => o.pid));
    for (const [g, pids] of listed) {
      if (!pids) continue;
      for (const pid of [...pids].slice(-UNSEEN_SCAN_LIMIT)) {
        if (ownPids.has(pid) || track.foreignPids.has(pid)) continue;
        const r = this.counters.accountingStats(g, pid);
        if (r.kind === 'ok' && !r.stats.running && r.stats.startTimeUs >= startUs && r.stats.startTimeUs <= endUs) unseen++;
      }
    }
    return { processes, unseen };
  }

  private energy(track: Track, gpus: number[]): RunGpuReadings['energy'] {
    if (gpus.length === 0) return null;
    let counterJ: number | null = 0;
    for (const g of gpus) {
      const e = energyFromCounterJ(track.energyStartMj.get(g) ?? null, this.counters.energyMj(g));
      counterJ = counterJ === null || e === null ? null : counterJ + e;
    }
    if (counterJ !== null) return { energyJ: counterJ, method: 'counter', coveredSeconds: null };
    let powerJ = 0;
    let covered = Infinity;
    for (const g of gpus) {
      const pt = track.power.get(g);
      if (!pt || pt.coveredSeconds === 0) return { energyJ: null, method: null, coveredSeconds: null };
      powerJ += pt.energyJ;
      covered = Math.min(covered, pt.coveredSeconds);
    }
    return { energyJ: powerJ, method: 'power', coveredSeconds: covered };
  }
}

function combineModes(modes: AccountingMode[]): RunGpuReadings['accountingMode'] {
  if (modes.length === 0) return 'unknown';
  if (modes.every((m) => m === 'on')) return 'on';
  if (modes.includes('off')) return 'off';
  if (modes.includes('unknown')) return 'unknown';
  return 'unsupported';
}

function sharedAtStart(track: Track, gpus: number[]): RunGpuReadings['sharedAtStart'] {
  if (track.key === null || track.atStart === null) return null;
  // No GPU known yet on a multi-GPU node: every GPU counts.
  const look = gpus.length > 0 ? gpus : [...track.atStart.keys()];
  let processes = 0;
  let usedMiB: number | null = 0;
  for (const g of look) {
    for (const p of track.atStart.get(g) ?? []) {
      processes++;
      usedMiB = usedMiB === null || p.usedMiB === null ? null : usedMiB + p.usedMiB;
    }
  }
  return { processes, usedMiB };
}
