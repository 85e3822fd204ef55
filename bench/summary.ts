// Cost of the pure summary over a one-hour trace at 10 Hz (36 000 samples), with node samples for the
// official block: what closing a run (and recovering one after a crash) costs on top of loading it.
import { summarizeRun } from '../src/core/summary.js';
import { FLARE22_PENALTIES, type NodeSample, type RunSample } from '../src/core/types.js';

export function benchSummary(n = 36_000): Record<string, number> {
  const samples: RunSample[] = [];
  const nodeSamples: NodeSample[] = [];
  for (let i = 0; i < n; i++) {
    const monoNs = 1e9 + i * 1e8;
    samples.push({ monoNs, wallMs: 1.7e12 + i * 100, cpuSeconds: i * 0.09, ramMiB: 500 + (i % 100), gpuMiB: 1500 + (i % 2000), gpuDeviceMiB: 1800 + (i % 2000) });
    nodeSamples.push({
      monoNs, wallMs: 1.7e12 + i * 100, memUsedMiB: 4000 + (i % 50), memTotalMiB: 32000, gpus: [],
      cpu: { userSeconds: i * 0.1, niceSeconds: 0, systemSeconds: i * 0.02, idleSeconds: i * 0.08, iowaitSeconds: 0, irqSeconds: 0, softirqSeconds: 0, stealSeconds: 0 },
    });
  }
  const times: number[] = [];
  for (let k = 0; k < 15; k++) {
    const t0 = process.hrtime.bigint();
    summarizeRun({
      startedMonoNs: 1e9, endedMonoNs: 1e9 + n * 1e8, samples, nodeSamples, nCpu: 12, intervalMs: 100, timeLimitSeconds: null,
      gpuToleranceMiB: 2048, penalties: FLARE22_PENALTIES, status: 'completed', terminationReason: 'exited', exitCode: 0,
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { summarySamples: n, summaryMsMedian: times[Math.floor(times.length / 2)], summaryMsMin: times[0] };
}
