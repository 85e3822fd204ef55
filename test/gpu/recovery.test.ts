// Recovery after a GPU reset (issue 11): the stub's `reset` makes every handle fetched before it answer
// GPU_IS_LOST until NVML is initialised again and the handles re-fetched; and `auto` with an NVML that
// loads but sees 0 GPUs falls through to nvidia-smi, saying why.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNvmlSource } from '../../src/gpu/nvml.js';
import { selectGpuSource } from '../../src/gpu/select.js';
import { MiB, buildStub, stubDevice, writeStubState } from './stub/stub.js';

const FAKE = join(dirname(fileURLToPath(import.meta.url)), 'fake-nvidia-smi');
let dir: string;
let lib: string;
let state: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flare-recovery-'));
  lib = buildStub(dir, 'default');
  state = join(dir, 'state');
  process.env.FLARE_NVML_STUB_STATE = state;
  process.env.FLARE_FAKE_SMI_DIR = dir;
  writeFileSync(join(dir, 'inventory.csv'), '0, GPU-0, Fake GPU, 1024\n');
  writeFileSync(join(dir, 'gpu.csv'), '0, GPU-0, 10, 1024, 0\n');
  writeFileSync(join(dir, 'apps.csv'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('NVML after a GPU reset', () => {
  it('re-initialises NVML and re-fetches the handles: figures come back, the source is up', () => {
    const devices = [stubDevice(0, 81559, 700), stubDevice(1, 81559, 900)];
    writeStubState(state, { devices, processes: [{ gpu: 1, pid: 4242, usedBytes: 300 * MiB }] });
    const src = openNvmlSource({ libPath: lib });
    try {
      expect(src.sample().devices.map((d) => d.usedMiB)).toEqual([700, 900]);
      // The reset: every handle the source holds is now lost.
      writeStubState(state, { devices, processes: [{ gpu: 1, pid: 4242, usedBytes: 300 * MiB }], reset: 1 });
      const after = src.sample();
      expect(src.status()).toEqual({ up: true });
      expect(after.devices.map((d) => d.usedMiB)).toEqual([700, 900]);
      expect(after.processes).toEqual([{ pid: 4242, gpuIndex: 1, usedMiB: 300 }]);
      expect((src as unknown as { recoveries: number }).recoveries).toBe(1);
    } finally {
      src.close();
    }
  });

  it('a GPU that stays lost: the source is down with the reason, retried at most once a second', () => {
    writeStubState(state, { devices: [stubDevice(0)] });
    const src = openNvmlSource({ libPath: lib });
    try {
      writeStubState(state, { devices: [stubDevice(0)], errors: { nvmlDeviceGetMemoryInfo_v2: 15, nvmlDeviceGetMemoryInfo: 15 } });
      expect(src.sample().devices[0].usedMiB).toBeNull();
      expect(src.status().up).toBe(false);
      expect(src.status().reason).toContain('GPU_IS_LOST');
      src.sample();
      expect((src as unknown as { recoveries: number }).recoveries).toBe(1); // the second tick, within 1 s, did not re-init
    } finally {
      src.close();
    }
  });
});

describe('auto with NVML but no GPU', () => {
  it('falls through to nvidia-smi and states the reason', async () => {
    writeStubState(state, { devices: [] });
    const { source, reasons } = await selectGpuSource({ mode: 'auto', nvmlLib: lib, intervalMs: 100, smiBinary: FAKE });
    try {
      expect(source.name).toBe('nvidia-smi');
      expect(reasons.nvml).toBe('NVML loads but reports 0 GPUs');
    } finally {
      source.close();
    }
  });

  it('falls through to none when nvidia-smi fails too, both reasons stated', async () => {
    writeStubState(state, { devices: [] });
    const { source, reasons } = await selectGpuSource({ mode: 'auto', nvmlLib: lib, intervalMs: 100, smiBinary: join(dir, 'no-such-smi') });
    expect(source.name).toBe('none');
    expect(reasons.nvml).toBe('NVML loads but reports 0 GPUs');
    expect(reasons['nvidia-smi']).toBeTruthy();
  });
});
