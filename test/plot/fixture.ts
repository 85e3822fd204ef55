// A finished run with a hand-made GPU curve, stored in a real SQLite file through the real summary.
import { summarizeRun } from '../../src/core/summary.js';
import { FLARE22_PENALTIES, type Run, type RunSample } from '../../src/core/types.js';
import type { Store } from '../../src/store/types.js';

export const STEP_S = 0.5;

/**
 * GPU (run processes): 0 → 4096 MiB over 0–4 s, 4096 until 8 s, back to 0 at 10 s, every 0.5 s.
 * Above the 2048 MiB tolerance: ½·2·2048 + 4·2048 + ½·1·2048 = 11 264 MiB·s (hand-computed).
 * Device-level = run + 300 MiB; official AUC = (57 344 + 21·300) × 0.5 s = 31 822 MiB·s.
 * CPU: half a core (cpuSeconds = 0.5·t) on 2 CPUs → 25 % of the host. RAM 100 MiB.
 */
export function gpuCurveSamples(startMonoNs: number, startWallMs: number): RunSample[] {
  const out: RunSample[] = [];
  for (let i = 0; i <= 20; i++) {
    const t = i * STEP_S;
    const gpu = t <= 4 ? 1024 * t : t <= 8 ? 4096 : 4096 - 2048 * (t - 8);
    out.push({ monoNs: startMonoNs + Math.round(t * 1e9), wallMs: startWallMs + t * 1000, cpuSeconds: 0.5 * t, ramMiB: 100, gpuMiB: gpu, gpuDeviceMiB: gpu + 300 });
  }
  return out;
}

export function storeGpuRun(store: Store, identity: { id: string; team: string; case: string; timeLimitSeconds: number | null }): Run {
  const startedMonoNs = 1_000_000_000_000;
  const startedWallMs = Date.now() - 60_000;
  const samples = gpuCurveSamples(startedMonoNs, startedWallMs);
  const base: Run = {
    kind: 'container',
    team: identity.team,
    case: identity.case,
    node: 'test-node',
    containerName: identity.team,
    id: identity.id,
    status: 'running',
    startedWallMs,
    startedMonoNs,
    endedWallMs: null,
    endedMonoNs: null,
    timeLimitSeconds: identity.timeLimitSeconds,
    nCpu: 2,
    intervalMs: STEP_S * 1000,
    previousRunId: null,
    summary: null,
  };
  store.createRun(base);
  for (const s of samples) store.appendRunSample(base.id, s);
  store.flush();
  const endedMonoNs = startedMonoNs + 10e9;
  const summary = summarizeRun({
    startedMonoNs,
    endedMonoNs,
    samples,
    nodeSamples: [],
    nCpu: 2,
    intervalMs: 500,
    timeLimitSeconds: identity.timeLimitSeconds,
    gpuToleranceMiB: 2048,
    penalties: FLARE22_PENALTIES,
    status: 'completed',
    terminationReason: 'exited',
    exitCode: 0,
  });
  const endedWallMs = startedWallMs + 10_000;
  store.finishRun(base.id, { status: summary.status, endedWallMs, endedMonoNs, summary });
  return { ...base, status: summary.status, endedWallMs, endedMonoNs, summary };
}
