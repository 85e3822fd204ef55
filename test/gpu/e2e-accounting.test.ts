// End to end through the built CLI: `flare-agent profile` with the NVML stub, accounting on. The command
// is a real process (its shell's pid) that the stub lists at 3000 MiB on every tick while its accounting
// record says it peaked at 9000 MiB: the 40 ms spike fell between two ticks, so only the driver's record
// knows it. The run must report the accounting peak beside the sampled max, and the missed spike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers.js';
import { MiB, buildStub, stubDevice, writeStubState } from './stub/stub.js';

let dir: string;
let lib: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flare-gpu-acct-'));
  lib = buildStub(dir, 'default');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// $1 base state (devices, modes), $2 live state file, $3 lines appended after the process's exit.
// put writes base + the given lines atomically; P is the profiled process, T0 its start (µs since the epoch).
const SPIKE_BETWEEN_TICKS = [
  'put() { { cat "$1"; printf "%b\\n" "$3"; } > "$2.tmp" && mv "$2.tmp" "$2"; }',
  'P=$$; T0=$(date +%s%6N)',
  `put "$1" "$2" "proc 0 $P ${3000 * MiB}\\nacct 0 $P ${3000 * MiB} 0 $T0 1 40 10"`,
  'sleep 0.5',
  // The spike: 9000 MiB for 40 ms, seen by the driver's accounting, never in the process list at a tick.
  `put "$1" "$2" "proc 0 $P ${3000 * MiB}\\nacct 0 $P ${9000 * MiB} 540 $T0 1 40 10"`,
  'sleep 0.5',
  // The process leaves the list (its context is gone) and a short process no tick saw comes and goes.
  `put "$1" "$2" "acct 0 $P ${9000 * MiB} 1040 $T0 0 40 10\\nacct 0 4000001 ${500 * MiB} 30 $(date +%s%6N) 0 5 5$4"`,
  'sleep 0.3',
].join('; ');

async function profile(name: string, base: Record<string, unknown>, afterExit = ''): Promise<Record<string, unknown>> {
  const state = join(dir, `${name}.state`);
  const baseFile = join(dir, `${name}.base`);
  writeStubState(baseFile, { devices: [stubDevice(0, 81559, 100)], ...base });
  writeStubState(state, { devices: [stubDevice(0, 81559, 100)], ...base });
  const r = await runCli(
    ['profile', '--json', '--db', join(dir, `${name}.db`), '--gpu-source', 'nvml', '--nvml-lib', lib, '--interval-ms', '100', '--',
      '/bin/sh', '-c', SPIKE_BETWEEN_TICKS, 'flare-gpu-acct', baseFile, state, '', afterExit],
    { FLARE_NVML_STUB_STATE: state },
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
}

describe('profile with NVML accounting (stub)', () => {
  it('a 9000 MiB spike between ticks: sampled max 3000, accounting peak 9000, flagged as missed', async () => {
    const json = await profile('spike', { accountingMode: { 0: 1 } });
    console.log(`accounting e2e: maxGpuMiB=${json.maxGpuMiB} peakGpuMiBAccounting=${json.peakGpuMiBAccounting} gpuSpikeMissed=${json.gpuSpikeMissed} gpuTimeSeconds=${json.gpuTimeSeconds} flags=${JSON.stringify(json.flags)}`);
    expect(json.status).toBe('completed');
    expect(json.maxGpuMiB).toBe(3000);
    expect(json.gpuAccountingMode).toBe('on');
    expect(json.peakGpuMiBAccounting).toBe(9000);
    expect(json.gpuSpikeMissed).toBe(true);
    expect(json.gpuTimeSeconds).toBeCloseTo(1.04, 6);
    expect(json.flags).toContain('gpu-spike-missed');
    // The 30 ms process that lived between two ticks has a record but was never attributed: said, not hidden.
    expect(json.flags).toContain('gpu-unseen-processes');
    expect(json.gpuUnseenProcesses).toBe(1);
    const procs = json.gpuProcesses as { pid: number; record: string; peakMiB: number; gpuUtilPct: number }[];
    expect(procs).toHaveLength(1);
    expect(procs[0]).toMatchObject({ gpuIndex: 0, record: 'ok', peakMiB: 9000, gpuTimeSeconds: 1.04, gpuUtilPct: 40 });
  });

  it('the pid fell out of the accounting buffer: the peak is unknown (null), never 0, and said so', async () => {
    // Buffer of 2 records; two other processes' records arrive after ours and overwrite it.
    const later = `\\nacct 0 4000002 ${MiB} 10 1 0 0 0\\nacct 0 4000003 ${MiB} 10 1 0 0 0`;
    const json = await profile('evicted', { accountingMode: { 0: 1 }, accountingBuffer: 2 }, later);
    expect(json.maxGpuMiB).toBe(3000);
    expect(json.peakGpuMiBAccounting).toBeNull();
    expect(json.gpuSpikeMissed).toBeNull();
    expect(json.gpuTimeSeconds).toBeNull();
    expect(json.flags).toContain('gpu-accounting-incomplete');
    expect([json.gpuProcessesUnknown, json.gpuProcessCount]).toEqual([1, 1]);
    expect((json.gpuProcesses as { record: string; peakMiB: null }[])[0]).toMatchObject({ record: 'not-in-buffer', peakMiB: null });
  });

  it('accounting off: no peak, the run says why', async () => {
    const json = await profile('off', { accountingMode: { 0: 0 } });
    expect(json.maxGpuMiB).toBe(3000);
    expect(json.gpuAccountingMode).toBe('off');
    expect(json.peakGpuMiBAccounting).toBeNull();
    expect(json.flags).toContain('gpu-accounting-off');
    expect((json.gpuProcesses as { record: string }[])[0]).toMatchObject({ record: 'unavailable' });
  });
});
