// The accounting / energy / power binding (src/gpu/counters.ts) and the per-run recorder against the C stub.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNTING_STATS_BYTES, decodeAccountingStats } from '../../src/gpu/counters.js';
import { openNvmlSource } from '../../src/gpu/nvml.js';
import { RunGpuRecorder } from '../../src/gpu/run-gpu.js';
import { MiB, buildStub, stubDevice, writeStubState, type StubState } from './stub/stub.js';

let dir: string;
let statePath: string;
let lib: string;
let noEnergyLib: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flare-nvml-counters-'));
  lib = buildStub(dir, 'default');
  noEnergyLib = buildStub(dir, 'NO_ENERGY');
  statePath = join(dir, 'state');
  process.env.FLARE_NVML_STUB_STATE = statePath;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function open(state: StubState, path = lib) {
  writeStubState(statePath, state);
  const src = openNvmlSource({ libPath: path });
  if (!src.counters) throw new Error('NVML source without counters');
  return { src, c: src.counters };
}

describe('nvmlAccountingStats_t decoding', () => {
  it('is 56 bytes; fields at 0, 4, 8, 16, 24, 32; all-ones maxMemoryUsage is unknown', () => {
    expect(ACCOUNTING_STATS_BYTES).toBe(56);
    const buf = Buffer.alloc(56);
    buf.writeUInt32LE(77, 0);
    buf.writeUInt32LE(12, 4);
    buf.writeBigUInt64LE(BigInt(9000 * MiB), 8);
    buf.writeBigUInt64LE(1040n, 16);
    buf.writeBigUInt64LE(1700000000123456n, 24);
    buf.writeUInt32LE(1, 32);
    expect(decodeAccountingStats(buf, 2, 99)).toEqual({
      pid: 99, gpuIndex: 2, maxMiB: 9000, gpuTimeSeconds: 1.04, startTimeUs: 1700000000123456, running: true, gpuUtilPct: 77, memUtilPct: 12,
    });
    buf.writeBigUInt64LE(0xffffffffffffffffn, 8);
    expect(decodeAccountingStats(buf, 0, 1).maxMiB).toBeNull();
  });
});

describe('NVML counters against the stub', () => {
  it('accounting mode, buffer size, pids (grown past the first buffer), stats, a pid out of the buffer', () => {
    const accounting = Array.from({ length: 12 }, (_, k) => ({
      gpu: 0, pid: 5000 + k, maxBytes: (100 + k) * MiB, timeMs: 10 * k, startTimeUs: 1000 + k, running: k === 11,
    }));
    const { src, c } = open({
      devices: [stubDevice(0), stubDevice(1), stubDevice(2)],
      accountingMode: { 0: 1, 1: 0, 2: 'NS' },
      accountingBuffer: 10,
      accounting: [...accounting, { gpu: 0, pid: 6000, maxBytes: 'NA', timeMs: 5, startTimeUs: 9, running: false }],
    });
    try {
      expect([c.accountingMode(0), c.accountingMode(1), c.accountingMode(2), c.accountingMode(7)]).toEqual(['on', 'off', 'unsupported', 'unsupported']);
      expect(c.accountingBufferSize(0)).toBe(10);
      // 13 records, buffer 10: the 3 oldest are gone.
      expect(c.accountingPids(0)).toEqual([5003, 5004, 5005, 5006, 5007, 5008, 5009, 5010, 5011, 6000]);
      expect(c.accountingPids(1)).toEqual([]);
      expect(c.accountingStats(0, 5000)).toEqual({ kind: 'not-found' });
      expect(c.accountingStats(0, 5011)).toEqual({
        kind: 'ok', stats: { pid: 5011, gpuIndex: 0, maxMiB: 111, gpuTimeSeconds: 0.11, startTimeUs: 1011, running: true, gpuUtilPct: 0, memUtilPct: 0 },
      });
      const na = c.accountingStats(0, 6000);
      expect(na.kind === 'ok' && na.stats.maxMiB).toBeNull();
      expect(c.accountingStats(2, 5011)).toEqual({ kind: 'unsupported' });
    } finally {
      src.close();
    }
  });

  it('energy (mJ) and power (mW) from the state file; NOT_SUPPORTED is null; a ramp integrates exactly', () => {
    const t0 = Date.now() - 10_000;
    const { src, c } = open({
      devices: [stubDevice(0), stubDevice(1), stubDevice(2)],
      energyMj: { 0: 123456789 },
      powerMw: { 0: 250000, 1: 'NS' },
      ramps: [{ gpu: 2, t0EpochMs: t0, p0Mw: 100000, slopeMwPerS: 10000, e0Mj: 5000 }],
    });
    try {
      expect([c.energyMj(0), c.powerMw(0)]).toEqual([123456789, 250000]);
      expect([c.energyMj(1), c.powerMw(1)]).toEqual([null, null]);
      // P(t) = 100 W + 10 W/s · t; at t ≈ 10 s: 200 W, E = 5 J + 100·10 + 10·100/2 = 1505 J.
      expect(c.powerMw(2)! / 1000).toBeCloseTo(200, -1);
      expect(c.energyMj(2)! / 1000).toBeGreaterThan(1490);
      expect(c.energyMj(2)! / 1000).toBeLessThan(1530);
    } finally {
      src.close();
    }
  });

  it('a library without nvmlDeviceGetTotalEnergyConsumption: energy null (not 0), power still read', () => {
    const { src, c } = open({ devices: [stubDevice(0)], energyMj: { 0: 5000 }, powerMw: { 0: 70000 } }, noEnergyLib);
    try {
      expect(c.energyMj(0)).toBeNull();
      expect(c.powerMw(0)).toBe(70000);
    } finally {
      src.close();
    }
  });
});

describe('the per-run recorder', () => {
  it('says once, for /healthz, that accounting is off and how the organiser turns it on', () => {
    const { src, c } = open({ devices: [stubDevice(0), stubDevice(1)], accountingMode: { 0: 1, 1: 0 } });
    try {
      const notice = new RunGpuRecorder(src, c).accountingNotice();
      expect(new RunGpuRecorder(src, c).accountingModes()).toEqual({ on: [0], off: [1] });
      expect(notice).toContain('GPU 1');
      expect(notice).not.toContain('GPU 0,');
      expect(notice).toContain('nvidia-smi -am 1');
    } finally {
      src.close();
    }
  });

  it('another process on the GPU at the start: gpu-shared at start, shared during the run, energy by counter', () => {
    const devices = [stubDevice(0)];
    const { src, c } = open({ devices, energyMj: { 0: 1_000_000 }, processes: [{ gpu: 0, pid: 77, usedBytes: 1536 * MiB }, { gpu: 0, pid: 78, usedBytes: 512 * MiB }] });
    try {
      const rec = new RunGpuRecorder(src, c);
      rec.started('r1', 'mine', undefined, Date.now());
      rec.observe(src.sample(), (pid) => (pid === 78 ? 'other-run' : null));
      expect(rec.foreignNow('r1', [0])).toEqual({ 0: 2 });
      expect(rec.foreignNow('unknown-run', [0])).toEqual({});
      writeStubState(statePath, { devices, energyMj: { 0: 1_450_000 }, processes: [{ gpu: 0, pid: 5, usedBytes: 100 * MiB }] });
      rec.observe(src.sample(), (pid) => (pid === 5 ? 'mine' : null));
      // Shared now (the live series the alert reads): none at this tick, while "during the run" stays true.
      expect(rec.foreignNow('r1', [0])).toEqual({});
      const r = rec.readings('r1', true, [0], Date.now());
      expect(r?.sharedAtStart).toEqual({ processes: 2, usedMiB: 2048 });
      expect(r?.sharedDuringRun).toBe(true);
      expect(r?.energy).toEqual({ energyJ: 450, method: 'counter', coveredSeconds: null });
      rec.ended('r1');
      expect(rec.readings('r1', true, [0], Date.now())).toBeNull();
    } finally {
      src.close();
    }
  });
});
