import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countOnlineCpus, HostSource, parseMeminfo, parseProcStatCpu } from '../../src/sources/host.js';

const STAT = `cpu  1000 20 300 50000 40 5 6 7 0 0
cpu0 500 10 150 25000 20 2 3 3 0 0
cpu1 500 10 150 25000 20 3 3 4 0 0
intr 1
`;

describe('host source', () => {
  it('parses /proc/stat in seconds (USER_HZ = 100)', () => {
    const t = parseProcStatCpu(STAT);
    expect(t.userSeconds).toBe(10);
    expect(t.niceSeconds).toBe(0.2);
    expect(t.systemSeconds).toBe(3);
    expect(t.idleSeconds).toBe(500);
    expect(t.stealSeconds).toBe(0.07);
    expect(countOnlineCpus(STAT)).toBe(2);
  });

  it('computes used memory as psutil does (total − free − buffers − cached − SReclaimable)', () => {
    const m = parseMeminfo('MemTotal: 1048576 kB\nMemFree: 262144 kB\nMemAvailable: 524288 kB\nBuffers: 10240 kB\nCached: 204800 kB\nSReclaimable: 40960 kB\n');
    // (1048576 − 262144 − 10240 − 204800 − 40960) KiB = 530432 KiB = 518 MiB
    expect(m.memTotalMiB).toBe(1024);
    expect(m.memUsedMiB).toBe(518);
  });

  it('reads the real host', () => {
    const h = new HostSource();
    const r = h.read()!;
    h.close();
    expect(h.failure).toBeNull();
    expect(h.onlineCpus).toBe(countOnlineCpus(readFileSync('/proc/stat', 'utf8')));
    expect(r.cpu.idleSeconds).toBeGreaterThan(0);
    expect(r.memTotalMiB).toBeGreaterThan(r.memUsedMiB);
    expect(r.memUsedMiB).toBeGreaterThan(0);
  });
});
