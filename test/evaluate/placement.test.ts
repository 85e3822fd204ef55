// Pool placement: the pure CPU choice (core/placement.ts) on hand-made topologies, the sysfs reader on a
// fixture tree shaped like a two-socket GPU server's /sys, and the NVML PCI query against the C stub.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCpuList, parseCpuList, placeSlots, poolEtaSeconds, PlacementError, type GpuLocality } from '../../src/core/placement.js';
import { planPool, slotLabel } from '../../src/evaluate/harness.js';
import { parseEvaluateOptions } from '../../src/evaluate/options.js';
import { discoverPool, parseGpuList, pciLocality, sysfsBusId } from '../../src/evaluate/topology.js';
import { readNvmlPci } from '../../src/gpu/nvml-pci.js';
import { UsageError } from '../../src/usage-error.js';
import { tempDir } from '../helpers.js';
import { buildStub, stubDevice, writeStubState } from '../gpu/stub/stub.js';

const gpu = (id: string, local: number[] | null, numaNode: number | null = null): GpuLocality => ({ gpu: id, uuid: null, pciBusId: null, localCpus: local, numaNode, reason: local ? null : 'no sysfs entry' });
const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

describe('CPU lists', () => {
  it('parse and format the kernel cpulist form', () => {
    expect(parseCpuList('0-3,8,10-11\n')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('')).toEqual([]);
    expect(formatCpuList([11, 0, 1, 2, 3, 8, 10])).toBe('0-3,8,10-11');
    expect(() => parseCpuList('0-3;rm')).toThrow(PlacementError);
    expect(() => parseCpuList('5-2')).toThrow(/bad CPU range/);
  });
});

describe('placeSlots', () => {
  // Two sockets of 8 cores: GPUs 0,1 on node 0 (CPUs 0-7), GPUs 2,3 on node 1 (CPUs 8-15).
  const server = [gpu('0', range(0, 7), 0), gpu('1', range(0, 7), 0), gpu('2', range(8, 15), 1), gpu('3', range(8, 15), 1)];

  it('disjoint sets from each GPU\'s local cores', () => {
    const p = placeSlots(server, range(0, 15), 4);
    expect(p.map((s) => s.cpuset)).toEqual(['0-3', '4-7', '8-11', '12-15']);
    expect(p.map((s) => s.numaNode)).toEqual([0, 0, 1, 1]);
    expect(p.every((s) => s.note === null)).toBe(true);
    const all = p.flatMap((s) => s.cpus);
    expect(new Set(all).size).toBe(all.length);
  });

  it('spills outside the local cores only when they run out, and says so', () => {
    const p = placeSlots(server.slice(0, 3), range(0, 15), 5);
    expect(p.map((s) => s.cpuset)).toEqual(['0-4', '5-7,13-14', '8-12']);
    expect(p[1].note).toBe("2 of 5 CPUs outside the GPU's local cores (0-7): not enough free local cores");
    expect([p[0].note, p[2].note]).toEqual([null, null]);
  });

  it('unknown locality: all online CPUs, preferring cores no other GPU calls local, with the reason', () => {
    const p = placeSlots([gpu('0', range(0, 1)), gpu('1', null)], range(0, 3), 2);
    expect(p[0].cpuset).toBe('0-1');
    expect(p[1].cpuset).toBe('2-3');
    expect(p[1].note).toBe('GPU locality unknown (no sysfs entry): CPUs from all online CPUs');
  });

  it('too few CPUs or a GPU twice is an error; 0 means not pinned', () => {
    expect(() => placeSlots([gpu('0', null), gpu('1', null), gpu('2', null)], [0, 1], 1)).toThrow(/3 slots × 1 CPUs = 3 CPUs, but 2 are online \(0-1\)/);
    expect(() => placeSlots([gpu('0', null), gpu('0', null)], [0, 1], 1)).toThrow(/listed twice/);
    const p = placeSlots([gpu('0', null), gpu('1', null)], [0, 1], 0);
    expect(p.map((s) => s.cpuset)).toEqual([null, null]);
    expect(p[0].note).toMatch(/not pinned/);
  });

  it('pool ETA: queued cases and what is left of the running ones, shared by the slots', () => {
    expect(poolEtaSeconds([], 3, [1], 2)).toBeNull();
    // mean 10 s; running 4 s and 12 s in → 6 + 0 left; 3 queued → 30; over 2 slots → 18 s.
    expect(poolEtaSeconds([8, 12], 3, [4, 12], 2)).toBe(18);
  });
});

describe('topology (sysfs fixture, NVML stub)', () => {
  let dir: string;
  let sys: string;
  let lib: string;
  const busIds = ['00000000:18:00.0', '00000000:3B:00.0', '00000000:86:00.0', '00000000:AF:00.0'];
  beforeAll(() => {
    dir = tempDir('flare-topo-');
    sys = join(dir, 'sys');
    mkdirSync(join(sys, 'devices/system/cpu'), { recursive: true });
    writeFileSync(join(sys, 'devices/system/cpu/online'), '0-15\n');
    // GPU 3 has no sysfs entry (as on a VM whose PCI ids NVML does not share with the guest).
    const locals = [['0-7', '0'], ['0-7', '0'], ['8-15', '1']];
    locals.forEach(([cpus, node], i) => {
      const d = join(sys, 'bus/pci/devices', sysfsBusId(busIds[i])!);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'local_cpulist'), `${cpus}\n`);
      writeFileSync(join(d, 'numa_node'), `${node}\n`);
    });
    lib = buildStub(dir, 'default');
    process.env.FLARE_NVML_STUB_STATE = join(dir, 'state');
    writeStubState(process.env.FLARE_NVML_STUB_STATE, { devices: busIds.map((b, i) => ({ ...stubDevice(i), pciBusId: b })) });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bus ids in sysfs form; --gpus parsing', () => {
    expect(sysfsBusId('00000000:3B:00.0')).toBe('0000:3b:00.0');
    expect(sysfsBusId('0000:af:00.1')).toBe('0000:af:00.1');
    expect(sysfsBusId('../../etc')).toBeNull();
    expect(parseGpuList('0,1,MIG-4a1b2c3d-0000-1111-2222-333333333333')).toEqual(['0', '1', 'MIG-4a1b2c3d-0000-1111-2222-333333333333']);
    expect(parseGpuList('all')).toBe('all');
    expect(() => parseGpuList('0;rm -rf /')).toThrow(/--gpus/);
    expect(() => parseGpuList('0,0')).toThrow(/twice/);
    expect(() => parseEvaluateOptions({ image: 'x', cases: 'c', out: 'o', gpus: '0,x' })).toThrow(UsageError);
  });

  it('NVML gives UUID and PCI bus id per GPU', () => {
    expect(readNvmlPci(lib)).toEqual(busIds.map((b, i) => ({ index: i, uuid: stubDevice(i).uuid, pciBusId: b, pciReason: null })));
  });

  it('sysfs gives local CPUs and NUMA node; a missing entry is a stated reason', () => {
    expect(pciLocality(sys, '0000:86:00.0')).toEqual({ localCpus: range(8, 15), numaNode: 1, reason: null });
    expect(pciLocality(sys, '0000:af:00.0').reason).toBe(`no ${sys}/bus/pci/devices/0000:af:00.0/local_cpulist`);
    const pool = discoverPool('all', lib, sys);
    expect(pool.gpus.map((g) => [g.gpu, g.pciBusId, g.numaNode])).toEqual([['0', '0000:18:00.0', 0], ['1', '0000:3b:00.0', 0], ['2', '0000:86:00.0', 1], ['3', '0000:af:00.0', null]]);
    expect(discoverPool(['MIG-abc'], lib, sys).gpus[0].reason).toBe('MIG device: parent GPU not resolved');
    expect(discoverPool(['1'], null, sys).gpus[0]).toMatchObject({ uuid: null, reason: 'NVML not used (--gpu-source none)' });
    expect(() => discoverPool('all', null, sys)).toThrow(/needs NVML/);
    expect(() => discoverPool(['7'], lib, sys)).toThrow(/NVML has no GPU 7/);
  });

  it('planPool: 4 GPUs × 3 CPUs on the fixture server, GPU 3 falling back to the cores no GPU claims', () => {
    const o = parseEvaluateOptions({ image: 'x', cases: 'c', out: 'o', gpus: 'all', cpusPerRun: '3', gpuSource: 'nvml', nvmlLib: lib });
    const p = planPool(o, sys);
    expect(p.map((s) => s.cpuset)).toEqual(['0-2', '3-5', '8-10', '6-7,11']);
    expect(p[3].note).toMatch(/^GPU locality unknown \(no .*0000:af:00.0\/local_cpulist\)/);
    expect(slotLabel(p[2])).toBe('slot 2 · gpu 2 · numa 1 · cpu 8-10');
    // Default: online CPUs ÷ GPUs.
    expect(planPool({ ...o, cpusPerRun: null }, sys).map((s) => s.cpus.length)).toEqual([4, 4, 4, 4]);
    expect(() => planPool({ ...o, cpusPerRun: 5 }, sys)).toThrow(UsageError);
  });
});
