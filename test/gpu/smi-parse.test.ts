import { describe, expect, it } from 'vitest';
import { LineBatcher } from '../../src/gpu/smi-batch.js';
import {
  LineSplitter,
  parseComputeAppLine,
  parseGpuLine,
  parseInventoryLine,
  parseSmiNumber,
} from '../../src/gpu/smi-parse.js';

const UUID = 'GPU-5f2b7a1e-0c3d-4e5f-8a9b-0c1d2e3f4a5b';

describe('nvidia-smi CSV parsers', () => {
  it('numbers, and null for everything that is not one', () => {
    expect(parseSmiNumber(' 2856')).toBe(2856);
    expect(parseSmiNumber('36.5')).toBe(36.5);
    for (const f of ['[N/A]', '[Not Supported]', '', ' ', 'N/A', '12 MiB', '0x10']) expect(parseSmiNumber(f)).toBeNull();
  });

  it('device stream lines', () => {
    expect(parseGpuLine(`0, ${UUID}, 2856, 11175, 36`)).toEqual({ index: 0, uuid: UUID, usedMiB: 2856, totalMiB: 11175, utilPct: 36 });
    expect(parseGpuLine(`1, ${UUID}, [N/A], 11175, [Not Supported]`)).toEqual({
      index: 1, uuid: UUID, usedMiB: null, totalMiB: 11175, utilPct: null,
    });
    expect(parseGpuLine('index, uuid, memory.used [MiB]')).toBeNull();
    expect(parseGpuLine('')).toBeNull();
  });

  it('compute-apps lines', () => {
    expect(parseComputeAppLine(`2624394, 164, ${UUID}`)).toEqual({ pid: 2624394, usedMiB: 164, gpuUuid: UUID });
    expect(parseComputeAppLine(`77, [N/A], ${UUID}`)).toEqual({ pid: 77, usedMiB: null, gpuUuid: UUID });
    expect(parseComputeAppLine(`77, [Not Supported], ${UUID}`)).toEqual({ pid: 77, usedMiB: null, gpuUuid: UUID });
    expect(parseComputeAppLine('No running processes found')).toBeNull();
    expect(parseComputeAppLine(`[N/A], 10, ${UUID}`)).toBeNull();
  });

  it('inventory lines keep a comma inside the name', () => {
    expect(parseInventoryLine(`0, ${UUID}, NVIDIA H100 80GB HBM3, 81559`)).toEqual({
      index: 0, uuid: UUID, name: 'NVIDIA H100 80GB HBM3', totalMiB: 81559,
    });
    expect(parseInventoryLine(`3, ${UUID}, Odd, Name, [N/A]`)).toEqual({ index: 3, uuid: UUID, name: 'Odd, Name', totalMiB: null });
  });

  it('splits lines across chunk boundaries (CRLF too)', () => {
    const s = new LineSplitter();
    expect(s.push('1, 2')).toEqual([]);
    expect(s.push('0, x\r\n3, 4, y\n\n5')).toEqual(['1, 20, x', '3, 4, y']);
    expect(s.push('\n')).toEqual(['5']);
  });
});

describe('LineBatcher (compute-apps iterations)', () => {
  it('groups lines arriving together, publishes a batch once the gap has passed', () => {
    const b = new LineBatcher<string>({ intervalMs: 100 }); // gap 50 ms, empty after 500 ms
    b.push('a1', 0);
    b.push('a2', 1);
    expect(b.current(10)).toEqual([]); // iteration may still be arriving
    expect(b.current(60)).toEqual(['a1', 'a2']);
    b.push('b1', 120);
    expect(b.current(130)).toEqual(['a1', 'a2']); // previous complete one until the new one is complete
    expect(b.current(171)).toEqual(['b1']);
  });

  it('a new batch replaces the previous one even when read late', () => {
    const b = new LineBatcher<string>({ intervalMs: 100 });
    b.push('a1', 0);
    b.push('b1', 110);
    b.push('b2', 111);
    expect(b.current(200)).toEqual(['b1', 'b2']);
  });

  it('long silence means no processes, and the stale batch never comes back', () => {
    const b = new LineBatcher<string>({ intervalMs: 100 });
    b.push('a1', 0);
    expect(b.current(499)).toEqual(['a1']);
    expect(b.current(501)).toEqual([]);
    b.push('c1', 2000);
    expect(b.current(2010)).toEqual([]);
    expect(b.current(2060)).toEqual(['c1']);
  });

  it('stretches the empty timeout to the observed iteration period (slow nvidia-smi)', () => {
    const b = new LineBatcher<string>({ intervalMs: 100 });
    for (let t = 0; t <= 3000; t += 300) b.push(`x${t}`, t); // nvidia-smi takes 300 ms per iteration
    expect(b.emptyAfterMs()).toBeGreaterThanOrEqual(800);
    expect(b.current(3000 + 700)).toEqual(['x3000']);
  });
});
