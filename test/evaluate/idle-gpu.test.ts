// evaluate --require-idle-gpu (issue 11): the pure verdict, the wait against the NVML stub, and the
// built CLI with a foreign process on the case's GPU (every case a harness error saying why, the GPU's
// driver/CUDA versions, name, UUID and modes in summary.json).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuBusyReason } from '../../src/core/gpu-guard.js';
import { gpuEnvironment, waitForIdleGpu } from '../../src/gpu/idle-guard.js';
import { openNvmlSource } from '../../src/gpu/nvml.js';
import { MiB, buildStub, stubDevice, writeStubState } from '../gpu/stub/stub.js';
import { requireServices, runCli, tempDir } from '../helpers.js';
import { buildTeamImage, dockerAvailable, makeCases } from './team-image.js';

/** This file's own tag (team-image.ts): evaluate.test.ts's --resume must see the image it measured. */
const TEAM_IMAGE = 'flare-test-idle/teamalpha:latest'; // the team is the name part: teamalpha

const dev = (usedMiB: number | null) => ({ index: 0, uuid: 'GPU-x', usedMiB, totalMiB: 81559, utilPct: 0 });

describe('gpuBusyReason', () => {
  it('idle: no process and under the floor; busy otherwise, saying why', () => {
    expect(gpuBusyReason(0, [dev(300)], [], 1024)).toBeNull();
    expect(gpuBusyReason(0, [dev(300)], [{ pid: 7, gpuIndex: 1, usedMiB: 900 }], 1024)).toBeNull();
    expect(gpuBusyReason(0, [dev(2000)], [{ pid: 7, gpuIndex: 0, usedMiB: 1536 }, { pid: 8, gpuIndex: 0, usedMiB: null }], 1024)).toBe(
      'GPU 0 has 2 other processes (pid 7 1536 MiB, pid 8 unknown MiB)',
    );
    expect(gpuBusyReason(0, [dev(2000)], [], 1024)).toBe('GPU 0 has 2000 MiB used, above the 1024 MiB floor');
    expect(gpuBusyReason(0, [dev(null)], [], 1024)).toBe('GPU 0: used memory unknown');
    expect(gpuBusyReason(3, [dev(0)], [], 1024)).toBe('GPU 3 not found');
  });
});

describe('the idle-GPU wait and environment (NVML stub)', () => {
  const dir = tempDir('flare-idle-');
  let lib: string;
  const state = join(dir, 'state');
  beforeAll(() => {
    lib = buildStub(dir, 'default');
    process.env.FLARE_NVML_STUB_STATE = state;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('waits while another process holds the GPU, returns once it has left', async () => {
    writeStubState(state, { devices: [stubDevice(0, 81559, 1700)], processes: [{ gpu: 0, pid: 4000077, usedBytes: 1536 * MiB }] });
    const src = openNvmlSource({ libPath: lib });
    try {
      setTimeout(() => writeStubState(state, { devices: [stubDevice(0, 81559, 160)] }), 400);
      const r = await waitForIdleGpu(src, { gpuIndex: 0, floorMiB: 1024, timeoutMs: 10_000, pollMs: 50 });
      expect(r.idle).toBe(true);
      expect(r.idle && r.waitedMs).toBeGreaterThanOrEqual(350);
      writeStubState(state, { devices: [stubDevice(0, 81559, 1700)], processes: [{ gpu: 0, pid: 4000077, usedBytes: 1536 * MiB }] });
      const busy = await waitForIdleGpu(src, { gpuIndex: 0, floorMiB: 1024, timeoutMs: 200, pollMs: 50 });
      expect(busy).toEqual({ idle: false, reason: expect.stringMatching(/^GPU not idle after 0\.[2-9] s: GPU 0 has 1 other process \(pid 4000077 1536 MiB\)$/) });
    } finally {
      src.close();
    }
  });

  it('environment: driver and CUDA versions, name, UUID, persistence and accounting modes', () => {
    writeStubState(state, { devices: [stubDevice(0)], driver: { version: '535.104.05', cuda: 12020 }, persistenceMode: { 0: 1 }, accountingMode: { 0: 1 } });
    const src = openNvmlSource({ libPath: lib });
    try {
      expect(gpuEnvironment(src, 0)).toEqual({
        source: 'nvml', gpuIndex: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-00000000-1111-2222-3333-444444444444', totalMiB: 81559,
        driverVersion: '535.104.05', cudaDriverVersion: '12.2', persistenceMode: 'on', accountingMode: 'on',
      });
    } finally {
      src.close();
    }
  });
});

const available = dockerAvailable();
if (!available && requireServices()) throw new Error('Docker Engine is required (FLARE_TEST_REQUIRE_SERVICES) but `docker info` fails');

describe.skipIf(!available)('evaluate with a foreign process on the GPU (built CLI, NVML stub)', () => {
  const dir = tempDir('flare-eval-idle-');
  const out = join(dir, 'out');
  const state = join(dir, 'state');
  let lib: string;
  beforeAll(() => {
    buildTeamImage(TEAM_IMAGE);
    makeCases(join(dir, 'cases'), ['case_a', 'case_b']);
    lib = buildStub(dir, 'default');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every case is a harness error saying why; summary.json records the GPU environment', async () => {
    writeStubState(state, { devices: [stubDevice(0, 81559, 1700)], processes: [{ gpu: 0, pid: 4000077, usedBytes: 1536 * MiB }], persistenceMode: { 0: 1 } });
    const r = await runCli(
      ['evaluate', '--image', TEAM_IMAGE, '--cases', join(dir, 'cases'), '--out', out, '--gpu', '0', '--shell', '/bin/sh',
        '--gpu-source', 'nvml', '--nvml-lib', lib, '--idle-gpu-timeout', '1', '--plot-format', 'svg'],
      { FLARE_NVML_STUB_STATE: state },
      120_000,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/case 1\/2 case_a: HARNESS ERROR: idle-GPU guard: GPU not idle after 1\.\d s: GPU 0 has 1 other process \(pid 4000077 1536 MiB\)/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown> & { cases: { state: string; error: string }[]; totals: { errors: number } };
    expect(summary.totals.errors).toBe(2);
    expect(summary.cases.map((c) => c.state)).toEqual(['error', 'error']);
    expect(summary.idleGpuGuard).toEqual({ floorMiB: 1024, timeoutSeconds: 1 });
    expect(summary.gpu).toEqual({
      source: 'nvml', gpuIndex: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-00000000-1111-2222-3333-444444444444', totalMiB: 81559,
      driverVersion: '550.54.15', cudaDriverVersion: '12.4', persistenceMode: 'on', accountingMode: 'off',
    });
  });
});
