// Energy per run end to end through the built CLI (`profile`, then `runs --csv`), with the NVML stub
// driving power as a ramp P(t) = 100 W + 40 W/s · t on the real clock and the energy counter as its
// exact integral. Known integral over the run's window: ∫ P = 100·Δt + 20·(t₂² − t₁²) J.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../src/http/metrics.js';
import { openStoreReadOnly } from '../../src/store/index.js';
import { DataLiveView, nodeSample } from '../http/helpers.js';
import { runCli } from '../helpers.js';
import { MiB, buildStub, stubDevice, writeStubState, type StubState } from './stub/stub.js';

let dir: string;
let lib: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flare-gpu-energy-'));
  lib = buildStub(dir, 'default');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const P0_W = 100;
const SLOPE_W_PER_S = 40;
const rampJ = (t0Ms: number, fromMs: number, toMs: number, slopeWPerS = SLOPE_W_PER_S): number => {
  const a = (fromMs - t0Ms) / 1000;
  const b = (toMs - t0Ms) / 1000;
  return P0_W * (b - a) + (slopeWPerS / 2) * (b * b - a * a);
};

interface Profiled {
  json: Record<string, unknown>;
  run: { startedWallMs: number; endedWallMs: number };
  csv: string[];
}

async function profileSleep(name: string, state: Omit<StubState, 'devices'>, t0Ms: number, slopeWPerS = SLOPE_W_PER_S): Promise<Profiled> {
  const stateFile = join(dir, `${name}.state`);
  const db = join(dir, `${name}.db`);
  writeStubState(stateFile, { devices: [stubDevice(0, 81559, 100)], ...state });
  const env = { FLARE_NVML_STUB_STATE: stateFile };
  const r = await runCli(['profile', '--json', '--db', db, '--gpu-source', 'nvml', '--nvml-lib', lib, '--interval-ms', '50', '--', 'sleep', '1.5'], env);
  expect(r.code, r.stderr).toBe(0);
  const json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
  const store = openStoreReadOnly(db);
  const stored = store.getRun(json.id as string);
  store.close();
  const run = { startedWallMs: stored?.startedWallMs ?? NaN, endedWallMs: stored?.endedWallMs ?? NaN };
  const csv = (await runCli(['runs', '--csv', '--db', db])).stdout.trim().split('\n');
  console.log(`${name}: gpuEnergyJ=${json.gpuEnergyJ} method=${json.gpuEnergyMethod} truth over the run=${rampJ(t0Ms, run.startedWallMs, run.endedWallMs, slopeWPerS).toFixed(2)} J flags=${JSON.stringify(json.flags)}`);
  return { json, run, csv };
}

// The counter is read just after the run's start (after the spawn) and just after its end (after the
// exit is handled): allow 0.15 s on each side at the power of the run's end (the highest of the ramp).
const slackJ = (t0Ms: number, endMs: number): number => 2 * 0.15 * (P0_W + (SLOPE_W_PER_S * (endMs - t0Ms)) / 1000);

describe('energy per run (stub ramp)', () => {
  it('energy counter: gpuEnergyJ is the ramp integral over the run; in the run JSON and the runs CSV', async () => {
    const t0 = Date.now();
    const { json, run, csv } = await profileSleep('counter', { ramps: [{ gpu: 0, t0EpochMs: t0, p0Mw: P0_W * 1000, slopeMwPerS: SLOPE_W_PER_S * 1000, e0Mj: 7_000_000 }] }, t0);
    const truth = rampJ(t0, run.startedWallMs, run.endedWallMs);
    expect(json.gpuEnergyMethod).toBe('counter');
    expect(Math.abs((json.gpuEnergyJ as number) - truth)).toBeLessThan(slackJ(t0, run.endedWallMs));
    expect(json.flags).not.toContain('shared-gpu');
    expect(json.flags).not.toContain('energy-from-power');
    const head = csv[0].split(',');
    const row = csv[1].split(',');
    expect(Number(row[head.indexOf('gpuEnergyJ')])).toBeCloseTo(json.gpuEnergyJ as number, 6);
    expect(row[head.indexOf('gpuEnergyMethod')]).toBe('counter');
    expect(row[head.indexOf('gpuSharedAtStart.processes')]).toBe('0');
  });

  it('no energy counter: power integrated over the ticks, flagged energy-from-power', async () => {
    const t0 = Date.now();
    const { json, run } = await profileSleep('power', { energyMj: { 0: 'NS' }, ramps: [{ gpu: 0, t0EpochMs: t0, p0Mw: P0_W * 1000, slopeMwPerS: SLOPE_W_PER_S * 1000, e0Mj: 0 }] }, t0);
    const truth = rampJ(t0, run.startedWallMs, run.endedWallMs);
    expect(json.gpuEnergyMethod).toBe('power');
    expect(json.flags).toContain('energy-from-power');
    // Trapezoids are exact on a line: the only loss is the unsampled head and tail of the run.
    const pEndW = P0_W + (SLOPE_W_PER_S * (run.endedWallMs - t0)) / 1000;
    const unsampledJ = ((json.unsampledHeadSeconds as number) + (json.unsampledTailSeconds as number)) * pEndW;
    expect(json.gpuEnergyJ as number).toBeLessThanOrEqual(truth + 1);
    expect(json.gpuEnergyJ as number).toBeGreaterThan(truth - unsampledJ - slackJ(t0, run.endedWallMs));
  });

  it('another process on the GPU: shared-gpu, gpu-shared-at-start and its 1 process, 1536 MiB (JSON and CSV)', async () => {
    const t0 = Date.now();
    // pid 4000077 is nobody's: a host process as far as attribution goes.
    const { json, csv } = await profileSleep('shared', {
      processes: [{ gpu: 0, pid: 4000077, usedBytes: 1536 * MiB }],
      ramps: [{ gpu: 0, t0EpochMs: t0, p0Mw: P0_W * 1000, slopeMwPerS: 0, e0Mj: 0 }],
    }, t0, 0);
    expect(json.flags).toEqual(expect.arrayContaining(['shared-gpu', 'gpu-shared-at-start']));
    expect(json.gpuSharedAtStart).toEqual({ processes: 1, usedMiB: 1536 });
    const head = csv[0].split(',');
    const row = csv[1].split(',');
    expect(row[head.indexOf('gpuSharedAtStart.usedMiB')]).toBe('1536');
    expect(row[head.indexOf('gpuSharedAtStart.processes')]).toBe('1');
    expect(csv[1]).toContain('gpu-shared-at-start');
  });

  it('/metrics: a joules counter per GPU from the energy counter', async () => {
    const live = new DataLiveView();
    const node = nodeSample();
    live.node = { ...node, gpus: [{ ...node.gpus[0], energyMj: 123_456_789 }] };
    const text = await new AgentMetrics({ live }).registry.metrics();
    expect(text).toContain('# TYPE flare_gpu_energy_joules_total counter');
    expect(text).toContain('flare_gpu_energy_joules_total{gpu="0",uuid="GPU-11111111-2222-3333-4444-555555555555"} 123456.789');
  });
});
