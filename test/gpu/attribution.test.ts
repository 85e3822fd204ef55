import { describe, expect, it } from 'vitest';
import { sumGpuByTarget } from '../../src/core/attribution.js';
import { containerIdFromProcCgroup, parseProcCgroup } from '../../src/cgroup/proc-cgroup.js';

const ID = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'b'.repeat(8); // 64 hex
const OUTER = 'c'.repeat(64);

describe('parseProcCgroup', () => {
  it('splits v1 co-mounted controllers, named hierarchies and the v2 line (hybrid host)', () => {
    const text = [
      `12:cpu,cpuacct:/docker/${ID}`,
      `11:memory:/docker/${ID}`,
      '1:name=systemd:/system.slice/docker.service',
      '0::/system.slice/docker.service',
      '',
    ].join('\n');
    expect(parseProcCgroup(text)).toEqual({
      v2Path: '/system.slice/docker.service',
      v1: { cpu: `/docker/${ID}`, cpuacct: `/docker/${ID}`, memory: `/docker/${ID}`, 'name=systemd': '/system.slice/docker.service' },
    });
  });

  it('reads a pure v2 file', () => {
    expect(parseProcCgroup(`0::/system.slice/docker-${ID}.scope\n`)).toEqual({ v2Path: `/system.slice/docker-${ID}.scope`, v1: {} });
  });

  it('ignores malformed lines', () => {
    expect(parseProcCgroup('garbage\n3:pids\n')).toEqual({ v2Path: null, v1: {} });
  });
});

describe('containerIdFromProcCgroup', () => {
  const cases: Array<[string, string, string | null]> = [
    ['v1 cgroupfs', `4:memory:/docker/${ID}\n3:cpu,cpuacct:/docker/${ID}\n`, ID],
    ['v1 systemd', `2:cpuacct,cpu:/system.slice/docker-${ID}.scope\n`, ID],
    ['very old Docker', `4:memory:/${ID}\n`, ID],
    ['v2 systemd', `0::/system.slice/docker-${ID}.scope\n`, ID],
    ['v2 cgroupfs', `0::/docker/${ID}\n`, ID],
    ['kubepods cgroupfs', `5:cpu,cpuacct:/kubepods/besteffort/pod8d1c6f3e-1b2a-4c5d-9e8f-0a1b2c3d4e5f/${ID}\n`, ID],
    [
      'kubepods systemd + containerd',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8d1c6f3e_1b2a.slice/cri-containerd-${ID}.scope\n`,
      ID,
    ],
    ['kubepods docker scope', `0::/kubepods.slice/kubepods-pod1.slice/docker-${ID}.scope\n`, ID],
    ['Docker-in-Docker takes the inner id', `4:memory:/docker/${OUTER}/docker/${ID}\n`, ID],
    ['hybrid: v2 at root, v1 in Docker', `0::/\n4:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n`, ID],
    ['host process', '0::/user.slice/user-0.slice/session-1.scope\n4:memory:/user.slice\n', null],
    ['63 hex is no id', `0::/docker/${ID.slice(1)}\n`, null],
    ['65 hex is no id', `0::/docker/${ID}f\n`, null],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => expect(containerIdFromProcCgroup(text)).toBe(expected));
  }
});

describe('sumGpuByTarget', () => {
  const targets: Record<number, string> = { 10: 'A', 11: 'A', 20: 'B', 30: 'C' };
  const targetOf = (pid: number) => targets[pid] ?? null;

  it('sums per target and per GPU, skipping processes of no target', () => {
    const out = sumGpuByTarget(
      [
        { pid: 10, gpuIndex: 1, usedMiB: 1000 },
        { pid: 11, gpuIndex: 0, usedMiB: 250.5 },
        { pid: 10, gpuIndex: 0, usedMiB: 100 },
        { pid: 20, gpuIndex: 2, usedMiB: 7 },
        { pid: 99, gpuIndex: 0, usedMiB: 5000 },
      ],
      targetOf,
    );
    expect([...out.keys()]).toEqual(['A', 'B']);
    expect(out.get('A')).toEqual({ totalMiB: 1350.5, byIndex: { 0: 350.5, 1: 1000 }, gpuIndices: [0, 1], byDevice: { 0: 350.5, 1: 1000 } });
    expect(out.get('B')).toEqual({ totalMiB: 7, byIndex: { 2: 7 }, gpuIndices: [2], byDevice: { 2: 7 } });
  });

  it('MIG: each process counted once, on its GPU and on its MIG device (or "?" for one not known yet)', () => {
    const MIG_A = 'MIG-aaaaaaaa-1111-2222-3333-444444444444';
    const out = sumGpuByTarget(
      [
        { pid: 10, gpuIndex: 0, usedMiB: 4000, migUuid: MIG_A },
        { pid: 11, gpuIndex: 0, usedMiB: 1000, migUuid: MIG_A },
        { pid: 20, gpuIndex: 0, usedMiB: 300, migUuid: null },
        { pid: 20, gpuIndex: 1, usedMiB: 50 },
      ],
      targetOf,
    );
    expect(out.get('A')).toEqual({ totalMiB: 5000, byIndex: { 0: 5000 }, gpuIndices: [0], byDevice: { [`0 ${MIG_A}`]: 5000 } });
    expect(out.get('B')).toEqual({ totalMiB: 350, byIndex: { 0: 300, 1: 50 }, gpuIndices: [0, 1], byDevice: { '0 ?': 300, 1: 50 } });
  });

  it('makes a target unknown (null, not 0) when one of its processes is not available', () => {
    const out = sumGpuByTarget(
      [
        { pid: 10, gpuIndex: 0, usedMiB: 100 },
        { pid: 11, gpuIndex: 1, usedMiB: null },
        { pid: 10, gpuIndex: 1, usedMiB: 50 },
        { pid: 30, gpuIndex: 0, usedMiB: 3 },
      ],
      targetOf,
    );
    expect(out.get('A')).toEqual({ totalMiB: null, byIndex: { 0: 100, 1: null }, gpuIndices: [0, 1], byDevice: { 0: 100, 1: null } });
    expect(out.get('C')).toEqual({ totalMiB: 3, byIndex: { 0: 3 }, gpuIndices: [0], byDevice: { 0: 3 } });
  });

  it('returns an empty map for no processes', () => {
    expect(sumGpuByTarget([], targetOf).size).toBe(0);
  });
});
