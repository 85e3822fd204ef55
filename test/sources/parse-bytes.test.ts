// The tick parses counters from the bytes it read, without strings (counter-file.ts, cgroup/counters.ts,
// sources/host.ts). Each fast path must give what the text parser gives on the same file, to the bit:
// the kernel's own formats, their edges (no trailing newline, more than 15 digits, a key at the start),
// and texts the kernel never writes, which go to the text parser.
import { describe, expect, it } from 'vitest';
import { cpuSecondsOfBytes, parseCpuSeconds, parseWorkingSetMiB, statField, workingSetMiBOfBytes } from '../../src/cgroup/counters.js';
import { meminfoOfBytes, parseMeminfo, parseProcStatCpu, procStatCpuOfBytes } from '../../src/sources/host.js';

/** The text in a buffer with stale bytes after it, as a kept-open counter file's buffer holds it. */
function held(text: string): [Buffer, number] {
  const buf = Buffer.alloc(text.length + 64, 'usage_usec 999\ninactive_file 77\n');
  const n = buf.write(text, 0, 'latin1');
  return [buf, n];
}

/** Same number to the bit: Object.is tells NaN, 0 and -0 apart. */
function same(a: number | null, b: number | null): boolean {
  return a === null || b === null ? a === b : Object.is(a, b);
}

// A small deterministic generator, so a failure is the same on every run.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const NUMBERS = ['0', '7', '123456789', '999999999999999', '1000000000000000', '9007199254740993', '18446744073709551615', '00012', '', ' 42', '42 ', '+5', '-5', '1e3', '0x10', '12a', '\t9', '4.5'];

describe('counter bytes parse as their text', () => {
  it('v1 cpuacct.usage and memory.usage_in_bytes: one number per file', () => {
    for (const v of NUMBERS) {
      for (const text of [`${v}\n`, v, `${v}\n\n`, `\n${v}\n`]) {
        const [buf, n] = held(text);
        expect(same(cpuSecondsOfBytes(1, buf, n), parseCpuSeconds(1, text)), JSON.stringify(text)).toBe(true);
      }
    }
  });

  it('v2 cpu.stat usage_usec: at the start, in the middle, missing, without a newline', () => {
    for (const v of NUMBERS) {
      for (const text of [`usage_usec ${v}\nuser_usec 1\n`, `nr_periods 0\nusage_usec ${v}\n`, `nr_periods 0\nusage_usec ${v}`, 'user_usec 5\n', '', `\nusage_usec ${v}\n`, `xusage_usec ${v}\n`, `usage_usecs ${v}\n`]) {
        const [buf, n] = held(text);
        expect(same(cpuSecondsOfBytes(2, buf, n), parseCpuSeconds(2, text)), JSON.stringify(text)).toBe(true);
      }
    }
  });

  it('a key is read only from the file, not from stale bytes past its end, whole or cut', () => {
    // The buffer past the file holds a longer read's bytes: the key whole, or the file ending inside the
    // key so that the stale bytes complete it. Either is "missing", as in the text.
    for (const [text, stale] of [
      ['nr_periods 0\n', 'usage_usec 999\n'],
      ['nr_periods 0\nusage_us', 'ec 999\n'],
      ['nr_periods 0\nusage_usec', ' 999\n'],
      ['nr_periods 0\nusage_usec 12', '34\n'],
    ]) {
      const buf = Buffer.from(text + stale, 'latin1');
      expect(same(cpuSecondsOfBytes(2, buf, text.length), parseCpuSeconds(2, text)), JSON.stringify(text)).toBe(true);
    }
    const memStat = (text: string, stale: string): number | null => {
      const usage = Buffer.from('1048576\n');
      return workingSetMiBOfBytes(2, usage, usage.length, Buffer.from(text + stale, 'latin1'), text.length);
    };
    expect(memStat('active_file 1\n', 'inactive_file 524288\n')).toBe(parseWorkingSetMiB(2, '1048576\n', 'active_file 1\n'));
    expect(memStat('active_file 1\ninactive_f', 'ile 524288\n')).toBe(1);
    expect(memStat('active_file 1\ninactive_file 524288\n', 'x')).toBe(0.5);
  });

  it('working set from usage and memory.stat, v1 and v2, random files', () => {
    const rnd = lcg(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    for (let i = 0; i < 3000; i++) {
      const version = rnd() < 0.5 ? 1 : 2;
      const key = version === 1 ? 'total_inactive_file' : 'inactive_file';
      const num = (): string => (rnd() < 0.8 ? String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 17))) : pick(NUMBERS));
      const lines = ['cache 1', 'rss 2', `inactive_file ${num()}`, 'active_file 3', `${key} ${num()}`, 'total_rss 4'].filter(() => rnd() < 0.8);
      const stat = lines.join('\n') + (rnd() < 0.9 ? '\n' : '');
      const usage = `${num()}${rnd() < 0.9 ? '\n' : ''}`;
      const [ub, un] = held(usage);
      const [sb, sn] = held(stat);
      expect(same(workingSetMiBOfBytes(version, ub, un, sb, sn), parseWorkingSetMiB(version, usage, stat)), JSON.stringify([version, usage, stat])).toBe(true);
    }
  });

  it('statField finds a key at the very start after a leading newline as after any other', () => {
    expect(statField('\nusage_usec 5\n', 'usage_usec')).toBe(5);
    expect(statField('usage_usec 5\n', 'usage_usec')).toBe(5);
    expect(statField('a 1\nusage_usec 6', 'usage_usec')).toBe(6);
  });
});

describe('host /proc bytes parse as their text', () => {
  it('/proc/stat cpu line: the kernel format, short and odd lines, random values', () => {
    const rnd = lcg(11);
    const texts = [
      'cpu  4705 356 584 3699176 23 23 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n',
      'cpu  1 2 3\n',
      'cpu  1 2 3 4 5 6 7 8 9 10 11 12\n',
      'cpu\n',
      'cpu  1 2 3 4 5 6 7 8',
      'cpu  1\t2 3 4 5 6 7 8\n',
      'cpu  -1 2 3 4 5 6 7 8\n',
      'cpu  18446744073709551615 2 3 4 5 6 7 8\n',
      'cpu0 1 2 3 4 5 6 7 8\n',
      'intr 1 2\n',
      '',
      'cpu  1 2 3 4 5 6 7 8 \n',
      'cpu  1x 2 3 4 5 6 7 8\n',
    ];
    for (let i = 0; i < 2000; i++) {
      const fields = Array.from({ length: 1 + Math.floor(rnd() * 11) }, () => String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 17))));
      texts.push(`cpu ${' '.repeat(Math.floor(rnd() * 2))}${fields.join(' ')}\ncpu0 1 2\n`);
    }
    for (const text of texts) {
      const [buf, n] = held(text);
      const a = procStatCpuOfBytes(buf, n);
      const b = parseProcStatCpu(text);
      for (const k of Object.keys(b) as (keyof typeof b)[]) expect(same(a[k], b[k]), `${JSON.stringify(text)} ${k}`).toBe(true);
    }
  });

  it('/proc/meminfo: the kernel format, keys missing, odd values, random values', () => {
    const rnd = lcg(13);
    const kernel = 'MemTotal:        8029532 kB\nMemFree:          512344 kB\nMemAvailable:    6000000 kB\nBuffers:          123456 kB\nCached:          3456789 kB\nSwapCached:            0 kB\nSReclaimable:     234567 kB\n';
    const texts = [kernel, '', 'MemTotal: 100 kB\n', 'MemTotal:\t100 kB\nMemFree: -5 kB\n', 'MemTotal: +100 kB\nMemFree: 5', 'MemTotal: 18446744073709551615 kB\n', 'MemTotal: kB\n', 'SwapCached: 9 kB\nCached: 5 kB\n'];
    for (let i = 0; i < 2000; i++) {
      const v = (): string => String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 17)));
      texts.push(`MemTotal: ${' '.repeat(Math.floor(rnd() * 9))}${v()} kB\nMemFree: ${v()} kB\nBuffers: ${v()} kB\nCached: ${v()} kB\nSReclaimable: ${v()} kB\n`);
    }
    for (const text of texts) {
      const [buf, n] = held(text);
      const a = meminfoOfBytes(buf, n);
      const b = parseMeminfo(text);
      expect(same(a.memUsedMiB, b.memUsedMiB) && same(a.memTotalMiB, b.memTotalMiB), JSON.stringify(text)).toBe(true);
    }
  });
});
