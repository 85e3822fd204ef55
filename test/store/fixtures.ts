// Test data for the store tests: runs, summaries and sample traces shaped like the real sources'
// (ns CPU counters, byte-derived MiB, monotonic ticks with jitter).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeSample, Run, RunSample, RunSummary } from '../../src/core/types.js';

export function tempDbPath(name = 'flare.db'): string {
  return join(mkdtempSync(join(tmpdir(), 'flare-store-')), 'nested', 'dir', name);
}

export function makeRun(id: string, over: Partial<Run> = {}): Run {
  return {
    id,
    kind: 'container',
    team: 'team-a',
    case: 'case-1',
    node: 'node-1',
    containerId: 'c0ffee',
    containerName: 'team-a',
    image: 'team-a:latest',
    gpuDevices: ['0'],
    status: 'running',
    startedWallMs: 1_700_000_000_000,
    startedMonoNs: 5_000_000_000_000,
    endedWallMs: null,
    endedMonoNs: null,
    timeLimitSeconds: 600,
    nCpu: 16,
    intervalMs: 100,
    previousRunId: null,
    summary: null,
    ...over,
  };
}

export function makeSummary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    status: 'completed',
    terminationReason: 'exited',
    exitCode: 0,
    wallSeconds: 12.5,
    cpuSeconds: 30.123456789,
    nCpu: 16,
    aucCpuPctS: 188.27,
    aucCpuCorePctS: 3012.3456789,
    maxCpuPct: 12.5,
    maxCpuCorePct: 200,
    gpuToleranceMiB: 2048,
    aucGpuMiBs: 1234.5,
    maxGpuMiB: 4096,
    aucGpuDeviceMiBs: 2000,
    maxGpuDeviceMiB: 4500,
    aucRamMiBs: 9999,
    maxRamMiB: 800.25,
    sampleCount: 125,
    intervalMs: 100,
    coveredSeconds: 12.4,
    unsampledHeadSeconds: 0.05,
    unsampledTailSeconds: 0.05,
    tailCpuBoundSeconds: 0.8,
    timeLimitSeconds: 600,
    exceededTimeLimit: false,
    scoring: { timeSeconds: 12.5, aucGpuMiBs: 1234.5, aucCpuPctS: 188.27, penalised: false },
    flareFormulas: {
      nominalIntervalSeconds: 0.1,
      sampleCount: 125,
      aucGpuMiBs: 2000,
      maxGpuStableMiB: 4500,
      maxGpuMiB: 4500,
      aucCpuPctS: 190,
      maxCpuStablePct: 12,
      maxCpuPct: 13,
      aucRamMiBs: 9000,
      maxRamStableMiB: 800,
      maxRamMiB: 801,
    },
    flags: ['attached-late'],
    ...over,
  };
}

/** Deterministic pseudo-random numbers (tests must be reproducible). */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A trace as the sources produce it: cpuSeconds = ns / 1e9, MiB = bytes / 1048576, some nulls. */
export function makeTrace(count: number, seed = 1, startMonoNs = 5_000_000_000_000): RunSample[] {
  const rand = rng(seed);
  const samples: RunSample[] = [];
  let cpuNs = 0;
  let ramBytes = 200 * 1048576;
  let gpuBytes = 0;
  for (let i = 0; i < count; i++) {
    cpuNs += Math.floor(rand() * 800_000_000);
    ramBytes += Math.floor((rand() - 0.4) * 256) * 4096;
    if (rand() < 0.05) gpuBytes = Math.floor(rand() * 8192) * 1048576 + Math.floor(rand() * 1024) * 1024;
    const lagNs = Math.floor(rand() * 2_000_000);
    samples.push({
      monoNs: startMonoNs + i * 100_000_000 + lagNs,
      wallMs: 1_700_000_000_000 + i * 100 + Math.floor(lagNs / 1e6),
      cpuSeconds: cpuNs / 1e9,
      ramMiB: ramBytes / 1048576,
      gpuMiB: i % 50 === 7 ? null : gpuBytes / 1048576,
      gpuDeviceMiB: (gpuBytes + 300 * 1048576) / 1048576,
    });
  }
  return samples;
}

export function makeNodeTrace(count: number, startWallMs = 1_700_000_000_000, seed = 2): NodeSample[] {
  const rand = rng(seed);
  const samples: NodeSample[] = [];
  const ticks = { user: 1000, system: 500, idle: 90000 };
  for (let i = 0; i < count; i++) {
    ticks.user += Math.floor(rand() * 100);
    ticks.system += Math.floor(rand() * 20);
    ticks.idle += Math.floor(rand() * 160);
    const gpus =
      i % 10 === 3
        ? [] // a tick where the GPU source was down
        : [0, 1].map((index) => ({
            index,
            uuid: `GPU-${index}-4f1c2a3b-aaaa-bbbb-cccc-0123456789ab`,
            usedMiB: Math.floor(rand() * 1e10) / 1048576,
            totalMiB: 81559,
            utilPct: index === 1 && i % 7 === 0 ? null : Math.floor(rand() * 101),
          }));
    samples.push({
      monoNs: 5_000_000_000_000 + i * 100_000_000 + Math.floor(rand() * 1e6),
      wallMs: startWallMs + i * 100,
      cpu: {
        userSeconds: ticks.user / 100,
        niceSeconds: 0,
        systemSeconds: ticks.system / 100,
        idleSeconds: ticks.idle / 100,
        iowaitSeconds: 1.5,
        irqSeconds: 0,
        softirqSeconds: 0.25,
        stealSeconds: 0,
      },
      memUsedMiB: (4_000_000 + Math.floor(rand() * 1000)) / 1024,
      memTotalMiB: 128_000_000 / 1024,
      gpus,
    });
  }
  return samples;
}
