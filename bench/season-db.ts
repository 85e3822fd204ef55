// A season's database, written through the store's own API as the agent writes it: a node with four
// GPUs runs four cases at a time; every 100-ms tick appends one sample per running run and one node
// sample, the queue is flushed once a simulated second, a running run's partial summary is updated
// every 10 s, and each run ends through the agent's summarise path (agent/verdict.ts) with its
// verdict. Teams × cases runs: a realistic mix of durations (most 20–60 s, a tail to 5 min), ~3 %
// over a 300-s limit (timeout, the container killed at the limit) and ~2 % failed (exit 1).
// Also writes the organiser's long-form accuracy CSV (DSC and NSD per team and case).
import { writeFileSync } from 'node:fs';
import { summariseRun, type Verdict } from '../src/agent/verdict.js';
import { DEFAULT_GPU_TOLERANCE_MIB, FLARE22_PENALTIES, type NodeSample, type Run, type RunSample, type RunStatus } from '../src/core/types.js';
import { openStore } from '../src/store/index.js';

export const SEASON_TEAMS = 50;
const GPUS = 4;
const INTERVAL_MS = 100;
const TIME_LIMIT_S = 300;
const N_CPU = 16;
const BASE_WALL_MS = Date.UTC(2022, 4, 1);
const BASE_MONO_NS = 1_000_000_000_000;

/** Deterministic PRNG (LCG): the same season every time. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

export interface SeasonFiles {
  db: string;
  accuracyCsv: string;
  runs: number;
  runSamples: number;
  nodeSamples: number;
  buildSeconds: number;
}

interface Planned {
  team: string;
  case: string;
  seconds: number;
  outcome: 'completed' | 'timeout' | 'failed';
}

function plan(runs: number, random: () => number): Planned[] {
  const cases = Math.ceil(runs / SEASON_TEAMS);
  const out: Planned[] = [];
  for (let c = 0; c < cases; c++) {
    for (let t = 0; t < SEASON_TEAMS && out.length < runs; t++) {
      const u = random();
      const outcome = u < 0.03 ? 'timeout' : u < 0.05 ? 'failed' : 'completed';
      // Log-normal-ish: median ~25 s, a tail to 300 s; failures end early, timeouts at the limit.
      const seconds = outcome === 'timeout' ? TIME_LIMIT_S : Math.min(TIME_LIMIT_S - 1, Math.max(3, 25 * Math.exp((random() - 0.5) * 1.6 + (random() < 0.1 ? 1.5 : 0))));
      out.push({ team: `team-${String(t + 1).padStart(2, '0')}`, case: `FLARETs_${String(c + 1).padStart(4, '0')}`, seconds: outcome === 'failed' ? seconds / 4 : seconds, outcome });
    }
  }
  return out;
}

interface Live {
  run: Run;
  planned: Planned;
  samples: RunSample[];
  ticks: number;
  cpuSeconds: number;
  gpuMiB: number;
}

function runOf(id: string, p: Planned, monoNs: number, wallMs: number): Run {
  return {
    id, kind: 'container', team: p.team, case: p.case, node: 'gpu-node-01', status: 'running',
    containerId: id.padEnd(64, '0'), containerName: `${p.team}-${p.case}`, image: `${p.team}:latest`, gpuDevices: ['GPU-0'],
    startedWallMs: wallMs, startedMonoNs: monoNs, endedWallMs: null, endedMonoNs: null, timeLimitSeconds: TIME_LIMIT_S,
    nCpu: N_CPU, intervalMs: INTERVAL_MS, previousRunId: null, summary: null,
    settings: { gpuToleranceMiB: DEFAULT_GPU_TOLERANCE_MIB, penalties: FLARE22_PENALTIES },
  };
}

function nodeSample(monoNs: number, wallMs: number, tick: number, live: number): NodeSample {
  return {
    monoNs, wallMs,
    cpu: { userSeconds: 1e5 + tick * 0.09 * live, niceSeconds: 0, systemSeconds: 2e4 + tick * 0.01, idleSeconds: 9e6 + tick * (1.6 - 0.1 * live), iowaitSeconds: 12, irqSeconds: 0, softirqSeconds: 3, stealSeconds: 0 },
    memUsedMiB: 40_000 + live * 3000, memTotalMiB: 128_000,
    gpus: Array.from({ length: GPUS }, (_, index) => ({ index, uuid: `GPU-${index}`, usedMiB: 500 + (index < live ? 4000 : 0), totalMiB: 81_559, utilPct: index < live ? 80 : 0 })),
  };
}

/** Builds the database and the accuracy CSV; returns what was written. */
export function buildSeason(db: string, accuracyCsv: string, runs: number, seed = 7): SeasonFiles {
  const t0 = performance.now();
  const random = rng(seed);
  const queue = plan(runs, random);
  const store = openStore(db);
  const live: (Live | null)[] = new Array(GPUS).fill(null);
  let next = 0;
  let tick = 0;
  let runSamples = 0;
  let nodeSamples = 0;
  while (next < queue.length || live.some((l) => l !== null)) {
    const monoNs = BASE_MONO_NS + tick * INTERVAL_MS * 1e6;
    const wallMs = BASE_WALL_MS + tick * INTERVAL_MS;
    for (let g = 0; g < GPUS; g++) {
      if (live[g] === null && next < queue.length) {
        const p = queue[next];
        const run = runOf(`r${String(next).padStart(6, '0')}`, p, monoNs, wallMs);
        store.createRun(run);
        live[g] = { run, planned: p, samples: [], ticks: 0, cpuSeconds: 0, gpuMiB: 600 };
        next++;
      }
    }
    let running = 0;
    for (let g = 0; g < GPUS; g++) {
      const l = live[g];
      if (!l) continue;
      running++;
      const elapsedS = l.ticks * INTERVAL_MS / 1000;
      if (elapsedS >= l.planned.seconds) {
        endRun(store, l, monoNs, wallMs);
        live[g] = null;
        continue;
      }
      l.cpuSeconds += 0.1 * (1 + 3 * random());
      if (l.ticks === 20) l.gpuMiB = 2500 + Math.floor(random() * 6000);
      const s: RunSample = { monoNs: monoNs + Math.floor(random() * 2e6), wallMs, cpuSeconds: l.cpuSeconds, ramMiB: 800 + (l.ticks % 300) * 4, gpuMiB: l.gpuMiB, gpuDeviceMiB: l.gpuMiB + 420 };
      l.samples.push(s);
      store.appendRunSample(l.run.id, s);
      runSamples++;
      l.ticks++;
      if (l.ticks % 100 === 0) store.updateRunningSummary(l.run.id, summariseRun(l.run, l.samples, [], verdictOf(l, null)));
    }
    store.appendNodeSample(nodeSample(monoNs, wallMs, tick, running));
    nodeSamples++;
    tick++;
    if (tick % 10 === 0) store.flush();
  }
  store.flush();
  store.close();
  writeFileSync(accuracyCsv, accuracyCsvText(queue, random));
  return { db, accuracyCsv, runs: queue.length, runSamples, nodeSamples, buildSeconds: (performance.now() - t0) / 1000 };
}

function verdictOf(l: Live, endedMonoNs: number | null): Verdict {
  const status: RunStatus = endedMonoNs === null ? 'running' : l.planned.outcome;
  return {
    status,
    terminationReason: status === 'timeout' ? 'killed at time limit' : endedMonoNs === null ? null : 'exited',
    exitCode: endedMonoNs === null ? null : status === 'completed' ? 0 : status === 'failed' ? 1 : 137,
    endedMonoNs,
    finalCpu: endedMonoNs === null ? undefined : { monoNs: endedMonoNs, cpuSeconds: l.cpuSeconds },
    flags: [],
  };
}

function endRun(store: ReturnType<typeof openStore>, l: Live, monoNs: number, wallMs: number): void {
  const verdict = verdictOf(l, monoNs);
  const summary = summariseRun(l.run, l.samples, [], verdict);
  store.finishRun(l.run.id, { status: verdict.status, endedWallMs: wallMs, endedMonoNs: monoNs, summary });
}

/** The organiser's long-form accuracy CSV: DSC and NSD of every team and case (failed cases too: 0). */
function accuracyCsvText(planned: Planned[], random: () => number): string {
  const lines = ['team,case,metric,value'];
  for (const p of planned) {
    const dsc = p.outcome === 'completed' ? 0.6 + 0.35 * random() : 0;
    lines.push(`${p.team},${p.case},DSC,${dsc.toFixed(4)}`, `${p.team},${p.case},NSD,${Math.min(1, dsc * (0.9 + 0.15 * random())).toFixed(4)}`);
  }
  return lines.join('\n') + '\n';
}
