// The real koffi binding against a C stub of libnvidia-ml (test/gpu/stub/nvml_stub.c).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NvmlError, openNvmlSource } from '../../src/gpu/nvml.js';
import { processEntryBytesForV3 } from '../../src/gpu/nvml-lib.js';
import { MiB, buildStub, stubDevice, writeStubState, type StubVariant } from './stub/stub.js';

let dir: string;
let statePath: string;
const libs = {} as Record<StubVariant, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flare-nvml-'));
  for (const v of ['default', 'NO_V3', 'ENTRY32', 'LEGACY'] as const) libs[v] = buildStub(dir, v);
  statePath = join(dir, 'state');
  // getenv() in the stub sees this: Node's process.env setter calls setenv.
  process.env.FLARE_NVML_STUB_STATE = statePath;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const twoGpus = () => ({
  devices: [stubDevice(0, 81559, 600), { ...stubDevice(1, 40960, 1234.5), utilPct: 'NS' as const }],
  processes: [
    { gpu: 0, pid: 4242, usedBytes: 3000 * MiB },
    { gpu: 0, pid: 4243, usedBytes: 'NA' as const },
    { gpu: 1, pid: 4242, usedBytes: 1536 * MiB },
  ],
});

describe('NVML source against the stub', () => {
  it('reads devices, names, UUIDs, memory in MiB, utilisation and processes (incl. not available)', () => {
    writeStubState(statePath, twoGpus());
    const src = openNvmlSource({ libPath: libs.default });
    try {
      expect(src.name).toBe('nvml');
      expect(src.devices()).toEqual([
        { index: 0, uuid: 'GPU-00000000-1111-2222-3333-444444444444', name: 'NVIDIA H100 80GB HBM3', totalMiB: 81559 },
        { index: 1, uuid: 'GPU-00000001-1111-2222-3333-444444444444', name: 'NVIDIA H100 80GB HBM3', totalMiB: 40960 },
      ]);
      const snap = src.sample();
      expect(snap.devices).toEqual([
        { index: 0, uuid: 'GPU-00000000-1111-2222-3333-444444444444', usedMiB: 600, totalMiB: 81559, utilPct: 10 },
        // utilisation NOT_SUPPORTED is a property of the device, not a fault: null and still up.
        { index: 1, uuid: 'GPU-00000001-1111-2222-3333-444444444444', usedMiB: 1234.5, totalMiB: 40960, utilPct: null },
      ]);
      expect(snap.processes).toEqual([
        { pid: 4242, gpuIndex: 0, usedMiB: 3000 },
        { pid: 4243, gpuIndex: 0, usedMiB: null },
        { pid: 4242, gpuIndex: 1, usedMiB: 1536 },
      ]);
      expect(src.status()).toEqual({ up: true });
    } finally {
      src.close();
    }
  });

  it('follows the state live, and shuts NVML down on close', () => {
    writeStubState(statePath, twoGpus());
    const src = openNvmlSource({ libPath: libs.default });
    expect(src.sample().processes).toHaveLength(3);
    writeStubState(statePath, { ...twoGpus(), processes: [{ gpu: 1, pid: 77, usedBytes: 10 * MiB }] });
    expect(src.sample().processes).toEqual([{ pid: 77, gpuIndex: 1, usedMiB: 10 }]);
    src.close();
    expect(src.sample()).toEqual({ devices: [], processes: [] });
    expect(src.status()).toEqual({ up: false, reason: 'closed' });
    // After nvmlShutdown the stub's reference count is 0: a direct call answers UNINITIALIZED (1).
    const getCount = koffi.load(libs.default).func('nvmlDeviceGetCount_v2', 'int', ['void *']);
    expect(getCount(Buffer.alloc(4))).toBe(1);
  });

  it('falls back to _v2 when _v3 is absent (driver 535.98 / R470)', () => {
    writeStubState(statePath, twoGpus());
    const src = openNvmlSource({ libPath: libs.NO_V3 });
    expect(src.sample().processes.map((p) => [p.pid, p.usedMiB])).toEqual([[4242, 3000], [4243, null], [4242, 1536]]);
    // Prove which entry point answers: an error injected into _v2 shows up under that symbol.
    writeStubState(statePath, { ...twoGpus(), errors: { nvmlDeviceGetComputeRunningProcesses_v2: 999 } });
    src.sample();
    expect(src.status().reason).toContain('nvmlDeviceGetComputeRunningProcesses_v2');
    src.close();
  });

  it('falls back when _v3 is exported but answers FUNCTION_NOT_FOUND', () => {
    writeStubState(statePath, { ...twoGpus(), errors: { nvmlDeviceGetComputeRunningProcesses_v3: 13 } });
    const src = openNvmlSource({ libPath: libs.default });
    expect(src.sample().processes).toHaveLength(3);
    expect(src.status().up).toBe(true);
    src.close();
  });

  it('decodes 32-byte entries on the 535.43–535.104 layout', () => {
    expect(processEntryBytesForV3(true, false)).toBe(32);
    expect(processEntryBytesForV3(true, true)).toBe(24);
    expect(processEntryBytesForV3(false, false)).toBe(24);
    writeStubState(statePath, twoGpus());
    const src = openNvmlSource({ libPath: libs.ENTRY32 });
    expect(src.sample().processes).toEqual([
      { pid: 4242, gpuIndex: 0, usedMiB: 3000 },
      { pid: 4243, gpuIndex: 0, usedMiB: null },
      { pid: 4242, gpuIndex: 1, usedMiB: 1536 },
    ]);
    expect(src.status()).toEqual({ up: true });
    src.close();
  });

  it('uses the unversioned calls (16-byte entries, nvmlMemory_t) on an R440-era library', () => {
    writeStubState(statePath, twoGpus());
    const src = openNvmlSource({ libPath: libs.LEGACY });
    const snap = src.sample();
    expect(snap.devices.map((d) => [d.usedMiB, d.totalMiB])).toEqual([[600, 81559], [1234.5, 40960]]);
    expect(snap.processes.map((p) => [p.pid, p.usedMiB])).toEqual([[4242, 3000], [4243, null], [4242, 1536]]);
    src.close();
  });

  it('falls back to nvmlDeviceGetMemoryInfo when _v2 rejects the version word', () => {
    writeStubState(statePath, { ...twoGpus(), errors: { nvmlDeviceGetMemoryInfo_v2: 25 } });
    const src = openNvmlSource({ libPath: libs.default });
    expect(src.devices()[0].totalMiB).toBe(81559);
    expect(src.sample().devices[0].usedMiB).toBe(600);
    src.close();
  });

  it('grows the process buffer on INSUFFICIENT_SIZE', () => {
    writeStubState(statePath, twoGpus());
    const src = openNvmlSource({ libPath: libs.default });
    expect(src.sample().processes).toHaveLength(3); // buffer now 2·2+5 = 9 entries on GPU 0
    const many = Array.from({ length: 40 }, (_, i) => ({ gpu: 0, pid: 10_000 + i, usedBytes: (i + 1) * MiB }));
    writeStubState(statePath, { ...twoGpus(), processes: many });
    const snap = src.sample();
    expect(snap.processes.map((p) => p.pid)).toEqual(many.map((p) => p.pid));
    expect(snap.processes[39].usedMiB).toBe(40);
    expect(src.status().up).toBe(true);
    src.close();
  });

  it('retries when processes appear between the count probe and the fill call', () => {
    // GPU 0 has 2 processes at the probe, 2 + 30 at the fill: the 2n+5 = 9 buffer is short again.
    writeStubState(statePath, { ...twoGpus(), grow: 30 });
    const src = openNvmlSource({ libPath: libs.default });
    const snap = src.sample();
    expect(snap.processes.filter((p) => p.gpuIndex === 0)).toHaveLength(32);
    expect(snap.processes.filter((p) => p.pid >= 900000).every((p) => p.usedMiB === 1)).toBe(true);
    expect(src.status().up).toBe(true);
    src.close();
  });

  it('goes down on GPU_IS_LOST without throwing, keeps sampling and comes back up', () => {
    writeStubState(statePath, twoGpus());
    const src = openNvmlSource({ libPath: libs.default });
    expect(src.sample().devices[0].usedMiB).toBe(600);
    writeStubState(statePath, {
      ...twoGpus(),
      errors: { nvmlDeviceGetMemoryInfo_v2: 15, nvmlDeviceGetComputeRunningProcesses_v3: 15, nvmlDeviceGetUtilizationRates: 15 },
    });
    const lost = src.sample();
    expect(lost.devices.map((d) => d.usedMiB)).toEqual([null, null]);
    expect(lost.processes).toEqual([]);
    expect(src.status().up).toBe(false);
    expect(src.status().reason).toBe('GPU 0: nvmlDeviceGetMemoryInfo_v2: GPU is lost (NVML_ERROR_GPU_IS_LOST, 15)');
    writeStubState(statePath, twoGpus());
    const back = src.sample();
    expect(back.devices[0].usedMiB).toBe(600);
    expect(back.processes).toHaveLength(3);
    expect(src.status()).toEqual({ up: true });
    src.close();
  });

  it('drops implausible entries (pid 0: the wrong-entry-size signature) and says so', () => {
    writeStubState(statePath, { ...twoGpus(), processes: [{ gpu: 0, pid: 0, usedBytes: MiB }, { gpu: 0, pid: 9, usedBytes: MiB }] });
    const src = openNvmlSource({ libPath: libs.default });
    expect(src.sample().processes).toEqual([{ pid: 9, gpuIndex: 0, usedMiB: 1 }]);
    expect(src.status().reason).toMatch(/implausible entry.*pid 0/);
    src.close();
  });

  it('throws a typed NvmlError with the nvmlErrorString text when init fails', () => {
    writeStubState(statePath, { ...twoGpus(), errors: { nvmlInit_v2: 9 } });
    let caught: unknown;
    try {
      openNvmlSource({ libPath: libs.default });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NvmlError);
    const e = caught as NvmlError;
    expect([e.code, e.symbol, e.nvmlMessage]).toEqual([9, 'nvmlInit_v2', 'Driver Not Loaded']);
    expect(e.message).toBe('nvmlInit_v2: Driver Not Loaded (NVML_ERROR_DRIVER_NOT_LOADED, 9)');
  });

  it('throws NvmlError when a device handle cannot be read at open', () => {
    writeStubState(statePath, { ...twoGpus(), errors: { nvmlDeviceGetUUID: 4 } });
    expect(() => openNvmlSource({ libPath: libs.default })).toThrow(
      'nvmlDeviceGetUUID: Insufficient Permissions (NVML_ERROR_NO_PERMISSION, 4)',
    );
  });

  it('MIG: discovers each GPU\'s MIG devices, tags processes with theirs, reads their own memory, and re-discovers a new one', async () => {
    const MIG_A = 'MIG-aaaaaaaa-1111-2222-3333-444444444444';
    const MIG_B = 'MIG-bbbbbbbb-1111-2222-3333-444444444444';
    const migState = (extra: boolean) => ({
      devices: [stubDevice(0, 81559, 30000), stubDevice(1, 81559, 700)],
      mig: [
        { gpu: 0, gpuInstanceId: 1, computeInstanceId: 0, uuid: MIG_A, totalBytes: 40192 * MiB, usedBytes: 3100 * MiB },
        ...(extra ? [{ gpu: 0, gpuInstanceId: 2, computeInstanceId: 0, uuid: MIG_B, totalBytes: 19968 * MiB, usedBytes: 26000 * MiB }] : []),
      ],
      processes: [
        { gpu: 0, pid: 4242, usedBytes: 3000 * MiB, mig: { gpuInstanceId: 1, computeInstanceId: 0 } },
        { gpu: 0, pid: 4243, usedBytes: 25000 * MiB, mig: { gpuInstanceId: 2, computeInstanceId: 0 } },
        { gpu: 1, pid: 4244, usedBytes: 200 * MiB },
      ],
    });
    writeStubState(statePath, migState(false));
    const src = openNvmlSource({ libPath: libs.default });
    try {
      expect(src.migDevices!()).toEqual([{ uuid: MIG_A, parentIndex: 0, gpuInstanceId: 1, computeInstanceId: 0, totalMiB: 40192 }]);
      const snap = src.sample();
      expect(snap.processes).toEqual([
        { pid: 4242, gpuIndex: 0, usedMiB: 3000, migUuid: MIG_A },
        { pid: 4243, gpuIndex: 0, usedMiB: 25000, migUuid: null }, // an instance created after discovery
        { pid: 4244, gpuIndex: 1, usedMiB: 200 }, // MIG off on GPU 1: no MIG field at all
      ]);
      expect(snap.mig).toEqual([{ uuid: MIG_A, parentIndex: 0, usedMiB: 3100, totalMiB: 40192 }]);
      expect(src.status()).toEqual({ up: true });
      // The unknown instance makes the source look again (at most once a second).
      writeStubState(statePath, migState(true));
      await new Promise((r) => setTimeout(r, 1100));
      src.sample();
      expect(src.sample().processes[1]).toEqual({ pid: 4243, gpuIndex: 0, usedMiB: 25000, migUuid: MIG_B });
      expect(src.migDevices!().map((m) => m.uuid)).toEqual([MIG_A, MIG_B]);
    } finally {
      src.close();
    }
    // 16-byte entries (R440) carry no instance ids: no MIG tag, never a wrong one.
    writeStubState(statePath, migState(true));
    const legacy = openNvmlSource({ libPath: libs.LEGACY });
    try {
      expect(legacy.sample().processes.every((p) => p.migUuid === undefined)).toBe(true);
    } finally {
      legacy.close();
    }
  });

  it('names the library when it cannot be loaded', () => {
    const missing = join(dir, 'nowhere', 'libnvidia-ml.so.1');
    expect(() => openNvmlSource({ libPath: missing })).toThrow(`${missing}: cannot open shared object file`);
  });
});
