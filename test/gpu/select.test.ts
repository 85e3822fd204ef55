import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectGpuSource } from '../../src/gpu/select.js';
import { buildStub, stubDevice, writeStubState } from './stub/stub.js';

const FAKE = join(dirname(fileURLToPath(import.meta.url)), 'fake-nvidia-smi');
let dir: string;
let stubLib: string;
let missingLib: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flare-select-'));
  stubLib = buildStub(dir, 'default');
  missingLib = join(dir, 'absent', 'libnvidia-ml.so.1');
  process.env.FLARE_NVML_STUB_STATE = join(dir, 'state');
  writeStubState(process.env.FLARE_NVML_STUB_STATE, { devices: [stubDevice(0)] });
  process.env.FLARE_FAKE_SMI_DIR = dir;
  writeFileSync(join(dir, 'inventory.csv'), '0, GPU-0, Fake GPU, 1024\n');
  writeFileSync(join(dir, 'gpu.csv'), '0, GPU-0, 10, 1024, 0\n');
  writeFileSync(join(dir, 'apps.csv'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { intervalMs: 100, smiBinary: FAKE };

describe('selectGpuSource', () => {
  it('auto prefers NVML', async () => {
    const { source, reasons } = await selectGpuSource({ ...base, mode: 'auto', nvmlLib: stubLib });
    expect(source.name).toBe('nvml');
    expect(reasons).toEqual({ 'nvidia-smi': 'not needed: NVML works' });
    source.close();
  });

  it('auto falls back to nvidia-smi and says why NVML is not used', async () => {
    const { source, reasons } = await selectGpuSource({ ...base, mode: 'auto', nvmlLib: missingLib });
    expect(source.name).toBe('nvidia-smi');
    expect(reasons.nvml).toBe(`${missingLib}: cannot open shared object file: No such file or directory`);
    source.close();
  });

  it('auto settles for none, with both reasons', async () => {
    const { source, reasons } = await selectGpuSource({ mode: 'auto', intervalMs: 100, nvmlLib: missingLib, smiBinary: 'nvidia-smi-flare-missing' });
    expect(source.name).toBe('none');
    expect(source.sample()).toEqual({ devices: [], processes: [] });
    expect(source.devices()).toEqual([]);
    expect(source.status()).toEqual({ up: false, reason: 'no GPU source' });
    expect(reasons).toEqual({
      nvml: `${missingLib}: cannot open shared object file: No such file or directory`,
      'nvidia-smi': 'nvidia-smi-flare-missing: not found on PATH',
    });
  });

  it('an explicit source that fails is an error with the reason', async () => {
    await expect(selectGpuSource({ ...base, mode: 'nvml', nvmlLib: missingLib })).rejects.toThrow(
      `--gpu-source nvml: ${missingLib}: cannot open shared object file`,
    );
    await expect(selectGpuSource({ ...base, mode: 'nvidia-smi', nvmlLib: stubLib, smiBinary: join(dir, 'no-smi') })).rejects.toThrow(
      `--gpu-source nvidia-smi: ${join(dir, 'no-smi')}: not found`,
    );
  });

  it('explicit choices', async () => {
    const smi = await selectGpuSource({ ...base, mode: 'nvidia-smi', nvmlLib: stubLib });
    expect([smi.source.name, smi.reasons]).toEqual(['nvidia-smi', { nvml: 'not selected (--gpu-source nvidia-smi)' }]);
    smi.source.close();
    const none = await selectGpuSource({ ...base, mode: 'none', nvmlLib: stubLib });
    expect(none.source.name).toBe('none');
    const nvml = await selectGpuSource({ ...base, mode: 'nvml', nvmlLib: stubLib });
    expect(nvml.source.name).toBe('nvml');
    nvml.source.close();
  });
});
