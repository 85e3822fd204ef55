// End to end through the built CLI: `flare-agent profile --gpu-source nvml --nvml-lib <stub>` runs a real
// command whose own pid the NVML stub reports at 3000 MiB for 2 s (the command rewrites the stub's state
// itself, so the window is the command's, timestamped by it). Expected aucGpuMiBs = (3000 − 2048) × 2 s.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreReadOnly } from '../../src/store/index.js';
import { runCli } from '../helpers.js';
import { MiB, buildStub, stubDevice, writeStubState } from './stub/stub.js';

let dir: string;
let lib: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flare-gpu-e2e-'));
  lib = buildStub(dir, 'default');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// $1 idle state, $2 busy state without the process line, $3 the live state file, $4 timestamp dir.
const HOLD_3000_MIB_FOR_2S = [
  '{ cat "$2"; echo "proc 0 $$ ' + 3000 * MiB + '"; } > "$3.tmp" && mv "$3.tmp" "$3"',
  'date +%s.%N > "$4/t1"',
  'sleep 2',
  'cp "$1" "$3.tmp" && mv "$3.tmp" "$3"',
  'date +%s.%N > "$4/t2"',
  'sleep 0.5',
].join('; ');

describe('profile with the NVML stub', () => {
  it('aucGpuMiBs of a process holding 3000 MiB for 2 s is (3000 − 2048) × 2 within 2 %', async () => {
    const state = join(dir, 'state');
    const idle = join(dir, 'idle');
    const busy = join(dir, 'busy');
    writeStubState(idle, { devices: [stubDevice(0, 81559, 100)] });
    writeStubState(busy, { devices: [stubDevice(0, 81559, 3100)] });
    writeStubState(state, { devices: [stubDevice(0, 81559, 100)] });
    const r = await runCli(
      ['profile', '--json', '--gpu-source', 'nvml', '--nvml-lib', lib, '--interval-ms', '10', '--',
        '/bin/sh', '-c', HOLD_3000_MIB_FOR_2S, 'flare-gpu-e2e', idle, busy, state, dir],
      { FLARE_NVML_STUB_STATE: state },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
    const heldSeconds = Number(readFileSync(join(dir, 't2'), 'utf8')) - Number(readFileSync(join(dir, 't1'), 'utf8'));
    const truthMiBs = (3000 - 2048) * heldSeconds;
    console.log(`e2e profile: aucGpuMiBs=${json.aucGpuMiBs} truth=${truthMiBs.toFixed(1)} (held ${heldSeconds.toFixed(3)} s) maxGpuMiB=${json.maxGpuMiB} maxGpuDeviceMiB=${json.maxGpuDeviceMiB} aucGpuDeviceMiBs=${json.aucGpuDeviceMiBs}`);
    expect(json.status).toBe('completed');
    expect(json.maxGpuMiB).toBe(3000);
    // Against the window the command itself timestamped: 2 %. Against the nominal 2 s the spawn time of
    // cp/mv/date on a loaded machine adds up to a few tens of ms, hence the looser bound.
    expect(Math.abs((json.aucGpuMiBs as number) - truthMiBs) / truthMiBs).toBeLessThan(0.02);
    expect(Math.abs((json.aucGpuMiBs as number) - 1904) / 1904).toBeLessThan(0.05);
    // Device level: the run's GPU read 3100 MiB used while the process held its memory.
    expect(json.maxGpuDeviceMiB).toBe(3100);
    expect(json.aucGpuDeviceMiBs as number).toBeGreaterThanOrEqual((3100 - 2048) * heldSeconds * 0.98);
  });

  it('no GPU source: GPU figures are null, not 0', async () => {
    const r = await runCli(['profile', '--json', '--gpu-source', 'none', '--', 'true']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
    expect([json.aucGpuMiBs, json.maxGpuMiB]).toEqual([null, null]);
  });

  it('the GPU lost mid-run: sampling goes on, the gap is stored as unknown (not 0), the run is flagged', async () => {
    const state = join(dir, 'state-lost');
    const busy = join(dir, 'busy-lost');
    const lost = join(dir, 'lost');
    const db = join(dir, 'lost.db');
    writeStubState(state, { devices: [stubDevice(0, 81559, 100)] });
    writeStubState(busy, { devices: [stubDevice(0, 81559, 3100)] });
    writeStubState(lost, { devices: [stubDevice(0, 81559, 3100)], errors: { nvmlDeviceGetMemoryInfo_v2: 15, nvmlDeviceGetMemoryInfo: 15 } });
    // $1 busy state without the process line, $2 the GPU-lost state, $3 the live state file.
    const script = [
      'hold() { { cat "$1"; echo "proc 0 $$ ' + 3000 * MiB + '"; } > "$3.tmp" && mv "$3.tmp" "$3"; }',
      'hold "$@"; sleep 0.8',
      'cp "$2" "$3.tmp" && mv "$3.tmp" "$3"; sleep 0.6',
      'hold "$@"; sleep 0.8',
    ].join('; ');
    const r = await runCli(
      ['profile', '--json', '--db', db, '--gpu-source', 'nvml', '--nvml-lib', lib, '--interval-ms', '50', '--', '/bin/sh', '-c', script, 'flare-gpu-lost', busy, lost, state],
      { FLARE_NVML_STUB_STATE: state },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as { status: string; flags: string[]; maxGpuMiB: number; sampleCount: number; id: string };
    expect(json.status).toBe('completed');
    expect(json.flags).toContain('gpu-unavailable');
    expect(json.maxGpuMiB).toBe(3000);
    const store = openStoreReadOnly(db);
    const samples = store.getRunSamples(json.id);
    store.close();
    const gpu = samples.map((x) => x.gpuMiB);
    const firstNull = gpu.indexOf(null);
    const lastNull = gpu.lastIndexOf(null);
    console.log(`GPU lost mid-run: ${samples.length} samples, unknown from #${firstNull} to #${lastNull}`);
    // Sampling went on through the loss (CPU kept being read), the gap is unknown rather than 0,
    // and GPU figures came back after it.
    expect(samples.length).toBeGreaterThan(30);
    expect(firstNull).toBeGreaterThan(0);
    expect(gpu.slice(firstNull, lastNull + 1).every((v) => v === null)).toBe(true);
    expect(lastNull - firstNull + 1).toBeGreaterThanOrEqual(5);
    expect(samples.slice(firstNull, lastNull + 1).every((x) => x.cpuSeconds !== null)).toBe(true);
    expect(gpu.slice(lastNull + 1).some((v) => v === 3000)).toBe(true);
    // 0 MiB only before the command registered its process (a real 0); never in place of the unknown gap.
    expect(gpu.slice(gpu.indexOf(3000)).includes(0)).toBe(false);
  });

  it('MIG: a command in a MIG instance is measured on that MIG device, not on its GPU\'s other tenants', async () => {
    const MIG_A = 'MIG-aaaaaaaa-1111-2222-3333-444444444444';
    const state = join(dir, 'state-mig');
    const busy = join(dir, 'busy-mig');
    // GPU 0 has 30000 MiB used by all its tenants; the command's MIG device 3100 MiB.
    const layout = {
      devices: [stubDevice(0, 81559, 30000)],
      mig: [{ gpu: 0, gpuInstanceId: 1, computeInstanceId: 0, uuid: MIG_A, totalBytes: 40192 * MiB, usedBytes: 3100 * MiB }],
      processes: [{ gpu: 0, pid: 4000077, usedBytes: 26000 * MiB, mig: { gpuInstanceId: 2, computeInstanceId: 0 } }],
    };
    writeStubState(state, layout);
    writeStubState(busy, layout);
    const script = '{ cat "$1"; echo "proc 0 $$ ' + 3000 * MiB + ' 1 0"; } > "$2.tmp" && mv "$2.tmp" "$2"; sleep 1';
    const r = await runCli(
      ['profile', '--json', '--gpu-source', 'nvml', '--nvml-lib', lib, '--interval-ms', '50', '--', '/bin/sh', '-c', script, 'flare-mig', busy, state],
      { FLARE_NVML_STUB_STATE: state },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as { status: string; maxGpuMiB: number; maxGpuDeviceMiB: number };
    console.log('MIG profile run', { maxGpuMiB: json.maxGpuMiB, maxGpuDeviceMiB: json.maxGpuDeviceMiB });
    expect(json.status).toBe('completed');
    expect(json.maxGpuMiB).toBe(3000); // its own process only (not the other instance's 26000)
    expect(json.maxGpuDeviceMiB).toBe(3100); // its MIG device's memory, not GPU 0's 30000
  });
});
