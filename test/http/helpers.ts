// Data for the HTTP tests: runs with hand-written summaries, a LiveView holding plain data, and a
// real SQLite store filled through the Store interface.
import type { NodeSample, Run, RunSample, RunSummary } from '../../src/core/types.js';
import type { Health, LiveRun, LiveView } from '../../src/agent/types.js';
import type { Store } from '../../src/store/types.js';

export const T0 = Date.parse('2024-05-01T10:00:00Z');

export function summary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    status: 'completed',
    terminationReason: 'exited',
    exitCode: 0,
    wallSeconds: 12.5,
    cpuSeconds: 20,
    nCpu: 4,
    aucCpuPctS: 500,
    aucCpuCorePctS: 2000,
    maxCpuPct: 50,
    maxCpuCorePct: 200,
    gpuToleranceMiB: 2048,
    aucGpuMiBs: 1000.5,
    maxGpuMiB: 3000,
    aucGpuDeviceMiBs: 2000,
    maxGpuDeviceMiB: 3500,
    aucRamMiBs: 6000,
    maxRamMiB: 512.25,
    sampleCount: 125,
    intervalMs: 100,
    coveredSeconds: 12.4,
    unsampledHeadSeconds: 0.05,
    unsampledTailSeconds: 0.05,
    tailCpuBoundSeconds: 0.2,
    timeLimitSeconds: null,
    exceededTimeLimit: false,
    scoring: { timeSeconds: 12.5, aucGpuMiBs: 1000.5, aucCpuPctS: 500, penalised: false },
    flareFormulas: {
      nominalIntervalSeconds: 0.1,
      sampleCount: 125,
      aucGpuMiBs: 40000,
      maxGpuStableMiB: 3400,
      maxGpuMiB: 3500,
      aucCpuPctS: 700,
      maxCpuStablePct: 60,
      maxCpuPct: 75.5,
      aucRamMiBs: 90000,
      maxRamStableMiB: 8000,
      maxRamMiB: 8100,
    },
    flags: [],
    ...over,
  };
}

export function run(id: string, over: Partial<Run> = {}): Run {
  return {
    id,
    kind: 'container',
    team: 'alpha',
    case: 'case_001',
    node: 'node-a',
    containerId: 'c'.repeat(64),
    containerName: 'alpha',
    image: 'alpha:latest',
    status: 'completed',
    startedWallMs: T0,
    startedMonoNs: 1_000_000_000,
    endedWallMs: T0 + 12_500,
    endedMonoNs: 13_500_000_000,
    timeLimitSeconds: null,
    nCpu: 4,
    intervalMs: 100,
    previousRunId: null,
    summary: summary(),
    ...over,
  };
}

export function samples(r: Run, n: number): RunSample[] {
  return Array.from({ length: n }, (_, i) => ({
    monoNs: r.startedMonoNs + 50_000_000 + i * 100_000_000,
    wallMs: r.startedWallMs + 50 + i * 100,
    cpuSeconds: i * 0.15,
    ramMiB: 100 + i,
    gpuMiB: i % 3 === 0 ? null : 2048.5,
    gpuDeviceMiB: 3000,
  }));
}

/** Fills a store with runs (finished ones finished through finishRun) and their samples. */
export function fill(store: Store, runs: Run[], samplesPerRun = 5): void {
  for (const r of runs) {
    store.createRun({ ...r, status: 'running', endedWallMs: null, endedMonoNs: null, summary: null });
    for (const s of samples(r, samplesPerRun)) store.appendRunSample(r.id, s);
    if (r.status !== 'running' && r.summary) {
      store.finishRun(r.id, { status: r.status, endedWallMs: r.endedWallMs, endedMonoNs: r.endedMonoNs, summary: r.summary });
    }
  }
  store.flush();
}

export function nodeSample(): NodeSample {
  return {
    monoNs: 5_000_000_000,
    wallMs: T0 + 4000,
    cpu: {
      userSeconds: 1000.5,
      niceSeconds: 1,
      systemSeconds: 300,
      idleSeconds: 9000,
      iowaitSeconds: 10,
      irqSeconds: 0,
      softirqSeconds: 2,
      stealSeconds: 0,
    },
    memUsedMiB: 4096,
    memTotalMiB: 16384,
    gpus: [{ index: 0, uuid: 'GPU-11111111-2222-3333-4444-555555555555', usedMiB: 3000, totalMiB: 16384, utilPct: 40 }],
  };
}

export function health(): Health {
  return {
    node: 'node-a',
    version: '0.1.0',
    startedWallMs: T0,
    intervalMs: 100,
    gpuSource: { active: 'nvml', reasons: {} },
    runtime: { requested: 'docker', attached: ['docker'] },
    sources: {
      docker: { up: true },
      containerd: { up: false, reason: 'not started' },
      gpu: { up: true },
      cgroup: { up: true },
      host: { up: true },
      sqlite: { up: false, reason: 'disk full' },
    },
    cgroup: { hierarchies: 'v2 at /sys/fs/cgroup (controllers: cpu memory)', lastPicked: null },
    ticks: { count: 42, missed: 1 },
    errors: { tick: 3, docker: 1 },
  };
}

/** A LiveView over plain data; tests change `runs` to start and end containers. */
export class DataLiveView implements LiveView {
  runs: LiveRun[] = [];
  node: NodeSample | null = nodeSample();
  liveRuns(): LiveRun[] {
    return this.runs;
  }
  lastNodeSample(): NodeSample | null {
    return this.node;
  }
  gpuDevices() {
    return [{ index: 0, uuid: 'GPU-11111111-2222-3333-4444-555555555555', name: 'Test GPU', totalMiB: 16384 }];
  }
  health(): Health {
    return health();
  }
}

export function liveRun(id: string, over: Partial<Run> = {}): LiveRun {
  const r = run(id, { status: 'running', endedWallMs: null, endedMonoNs: null, summary: null, ...over });
  return {
    run: r,
    last: { monoNs: 2_000_000_000, wallMs: T0 + 1000, cpuSeconds: 1.5, ramMiB: 256, gpuMiB: 1024, gpuDeviceMiB: 3000 },
    cpuCorePct: 150,
    gpuMiBByIndex: { 0: 1024 },
    elapsedSeconds: 1,
  };
}
