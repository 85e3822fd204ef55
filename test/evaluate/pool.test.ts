// `evaluate --gpus` against the real engine and the NVML stub with 4 GPUs: two slots pinned to one core
// each (this machine has two), real containers from the busybox team image. The engine here has no
// NVIDIA runtime, so --no-device-request assigns and records the GPU without asking Docker for it.
// Checked: the cases ran two at a time, each container saw only its slot's CPU (the kernel's
// Cpus_allowed_list inside the container), the records and CSVs carry the placement, in case order.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreReadOnly } from '../../src/store/index.js';
import { CLI, requireServices, runCli, tempDir } from '../helpers.js';
import { MiB, buildStub, stubDevice, writeStubState } from '../gpu/stub/stub.js';
import { buildTeamImage, dockerAvailable, makeCases } from './team-image.js';

/** This file's own tag: its --resume must see the image it measured (team-image.ts). */
const TEAM_IMAGE = 'flare-test-pool/teamalpha:latest'; // the team is the name part: teamalpha

const available = dockerAvailable();
if (!available && requireServices()) throw new Error('Docker Engine is required (FLARE_TEST_REQUIRE_SERVICES) but `docker info` fails');
const twoCores = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim() !== '0';

describe.skipIf(!available || !twoCores)('evaluate --gpus (real engine, NVML stub with 4 GPUs)', () => {
  const dir = tempDir('flare-pool-');
  const cases = join(dir, 'cases');
  const out = join(dir, 'out');
  const tarball = join(dir, 'teamalpha.tar.gz');
  let lib: string;
  const NAMES = ['case_1', 'case_2', 'case_3', 'case_4'];

  beforeAll(() => {
    buildTeamImage(TEAM_IMAGE);
    writeFileSync(tarball, gzipSync(execFileSync('docker', ['save', TEAM_IMAGE], { maxBuffer: 256 * 1024 * 1024 })));
    makeCases(cases, NAMES);
    lib = buildStub(dir, 'default');
    process.env.FLARE_NVML_STUB_STATE = join(dir, 'nvml-state');
    writeStubState(process.env.FLARE_NVML_STUB_STATE, { devices: [0, 1, 2, 3].map((i) => stubDevice(i)) });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the queue on two pinned slots at once and records where each case ran', async () => {
    // The container also writes the CPUs the kernel lets it use next to its output.
    const command = 'sh predict.sh; cat /proc/self/status > /workspace/outputs/status-$(ls /workspace/inputs)';
    const r = await runCli(['evaluate', '--image', tarball, '--cases', cases, '--out', out, '--gpus', '0,1', '--cpus-per-run', '1', '--no-device-request',
      '--gpu-source', 'nvml', '--nvml-lib', lib, '--shell', '/bin/sh', '--command', command, '--memory', '256m', '--shm-size', '64m', '--plot-format', 'svg'],
    { FLARE_NVML_STUB_STATE: process.env.FLARE_NVML_STUB_STATE! }, 120_000);
    expect(r.code, r.stderr).toBe(0);
    process.stdout.write(`--- evaluate --gpus stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`);
    expect(r.stderr).toContain('slot 0 · gpu 0 · cpu 0 (PCI 0000:18:00.0): GPU locality unknown (no /sys/bus/pci/devices/0000:18:00.0/local_cpulist)');
    expect(r.stderr).toContain('--no-device-request');
    expect(r.stdout).toMatch(/CASE\s+SLOT\s+STATE/);
    expect(r.stdout).toContain('4/4 cases ran');

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      slots: { slot: number; gpu: string; uuid: string; cpuset: string }[];
      cases: { name: string; runId: string; placement: { slot: number; gpu: string; gpuUuid: string; cpuset: string; memoryBytes: number; shmSizeBytes: number; deviceRequest: boolean } }[];
    };
    expect(summary.slots.map((s) => [s.gpu, s.uuid, s.cpuset])).toEqual([['0', stubDevice(0).uuid, '0'], ['1', stubDevice(1).uuid, '1']]);
    expect(summary.cases.map((c) => c.name)).toEqual(NAMES);
    for (const c of summary.cases) {
      expect(c.placement).toMatchObject({ memoryBytes: 256 * 1024 ** 2, shmSizeBytes: 64 * 1024 ** 2, deviceRequest: false });
      expect(c.placement.cpuset).toBe(c.placement.gpu); // slot k: GPU k, CPU k here
      // The kernel's view inside the container: only the slot's CPU.
      const status = readFileSync(join(out, 'teamalpha_outputs', `status-${c.name}_0000.nii.gz`), 'utf8');
      expect(/Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1]).toBe(c.placement.cpuset);
    }
    expect(new Set(summary.cases.map((c) => c.placement.slot))).toEqual(new Set([0, 1]));
    expect(readdirSync(join(out, 'teamalpha_outputs')).filter((f) => f.endsWith('.nii.gz') && !f.startsWith('status'))).toHaveLength(4);

    // Two at a time: some pair of runs overlaps in time (the agent's own start/end times).
    const store = openStoreReadOnly(join(out, 'flare-agent.db'));
    try {
      const runs = summary.cases.map((c) => store.getRun(c.runId)!);
      const overlaps = runs.some((a, i) => runs.some((b, j) => i < j && a.startedWallMs < b.endedWallMs! && b.startedWallMs < a.endedWallMs!));
      expect(overlaps).toBe(true);
      // Measured (not a timing bound: the machine is shared, a pinned burn gets what its core gives).
      for (const run of runs) expect(run.summary!.cpuSeconds).toBeGreaterThan(0);
      // The stored run says where it ran, from the container's HostConfig and the slot label.
      for (const [i, run] of runs.entries()) {
        const p = summary.cases[i].placement;
        expect(run.placement).toEqual({ slot: p.slot, cpusetCpus: p.cpuset, cpusetMems: null, numaNode: null, memoryLimitMiB: 256, shmSizeMiB: 64, gpuIndices: null });
      }
    } finally {
      store.close();
    }
    const csv = readFileSync(join(out, 'teamalpha_cases.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toContain('Slot,Gpu,Cpuset,NumaNode,MemoryBytes');
    expect(readFileSync(join(out, 'teamalpha_Efficiency_exact.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0])).toEqual(NAMES);
    expect(execFileSync('docker', ['ps', '-aq', '--filter', 'label=flare.slot'], { encoding: 'utf8' }).trim()).toBe('');
  });

  const poolArgs = (casesDir: string, outDir: string): string[] => ['evaluate', '--image', TEAM_IMAGE, '--cases', casesDir, '--out', outDir, '--gpus', '0,1', '--cpus-per-run', '1', '--no-device-request', '--gpu-source', 'nvml', '--nvml-lib', lib, '--shell', '/bin/sh', '--plot-format', 'svg'];

  it('--resume skips every case measured before', async () => {
    const r = await runCli(poolArgs(cases, out).concat('--resume'), { FLARE_NVML_STUB_STATE: process.env.FLARE_NVML_STUB_STATE! }, 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/skipped \(--resume/g)).toHaveLength(4);
  });

  it('the idle-GPU guard is per slot: a foreign process on GPU 1 stops only the cases slot 1 takes', async () => {
    const busyState = join(dir, 'nvml-state-busy');
    writeStubState(busyState, { devices: [0, 1, 2, 3].map((i) => stubDevice(i)), processes: [{ gpu: 1, pid: 4000077, usedBytes: 1536 * MiB }] });
    const out3 = join(dir, 'out-busy');
    const r = await runCli(poolArgs(cases, out3).concat('--idle-gpu-timeout', '1'), { FLARE_NVML_STUB_STATE: busyState }, 120_000);
    expect(r.code, r.stderr).toBe(1); // some cases could not run
    const summary = JSON.parse(readFileSync(join(out3, 'summary.json'), 'utf8')) as { cases: { name: string; state: string; error: string | null; placement: { slot: number } | null }[] };
    const errors = summary.cases.filter((c) => c.state === 'error');
    const ran = summary.cases.filter((c) => c.state !== 'error');
    console.log('pool guard', summary.cases.map((c) => [c.name, c.state, c.placement?.slot ?? null]));
    expect(errors.length).toBeGreaterThan(0);
    expect(ran.length).toBeGreaterThan(0);
    for (const c of errors) {
      expect(c.error).toMatch(/GPU 1 has 1 other process \(pid 4000077 1536 MiB\)/);
      expect(c.placement?.slot).toBe(1); // the record says which slot refused it
    }
    for (const c of ran) expect(c.placement?.slot).toBe(0);
  });

  it('Ctrl-C kills both running containers and marks the queued case not run', async () => {
    const slow = join(dir, 'slow');
    makeCases(slow, ['a_slow', 'b_slow', 'c_slow']);
    const out2 = join(dir, 'out2');
    const child = spawn(process.execPath, [CLI, ...poolArgs(slow, out2)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    for (let i = 0; i < 300 && (stderr.match(/: running/g) ?? []).length < 2; i++) await new Promise((res) => setTimeout(res, 100));
    await new Promise((res) => setTimeout(res, 1000));
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    const summary = JSON.parse(readFileSync(join(out2, 'summary.json'), 'utf8')) as { cases: { name: string; state: string; end: string | null; error: string | null }[] };
    expect(summary.cases.map((c) => [c.name, c.state, c.end])).toEqual([['a_slow', 'interrupted', 'interrupted'], ['b_slow', 'interrupted', 'interrupted'], ['c_slow', 'interrupted', null]]);
    expect(summary.cases[2].error).toBe('not run: interrupted');
    expect(execFileSync('docker', ['ps', '-aq', '--filter', 'label=flare.case=a_slow'], { encoding: 'utf8' }).trim()).toBe('');
  });
});
