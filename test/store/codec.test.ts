import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../src/store/bytes.js';
import { decodeNodeChunk, decodeRunChunk, encodeNodeChunk, encodePackedNodeChunk, encodePackedRunChunk, encodeRunChunk } from '../../src/store/codec.js';
import { DecodedColumn, decodeColumn, encodeColumn } from '../../src/store/columns.js';
import type { RunSample } from '../../src/core/types.js';
import { makeNodeTrace, makeTrace, rng } from './fixtures.js';

describe('varints and numbers', () => {
  it('round-trips integers across the 32-bit boundary and up to 2^53', () => {
    const values = [0, 1, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];
    const w = new ByteWriter(1);
    for (const v of values) w.varint(v);
    const signed = [-1, 1, -(2 ** 51), 2 ** 51, -123456789012];
    for (const v of signed) w.zigzag(v);
    const numbers = [0.1, -0, 2 ** 60, -7, NaN, Infinity];
    for (const v of numbers) w.number(v);
    const r = new ByteReader(w.toBuffer());
    expect(values.map(() => r.varint())).toEqual(values);
    expect(signed.map(() => r.zigzag())).toEqual(signed);
    expect(numbers.map(() => r.number())).toEqual(numbers);
    expect(() => r.byte()).toThrow(/truncated/);
  });
});

describe('columns', () => {
  function roundTrip(values: (number | null)[], scales: number[], order: 1 | 2): (number | null)[] {
    const w = new ByteWriter();
    encodeColumn(w, values, { scales, order });
    const col = new DecodedColumn();
    decodeColumn(new ByteReader(w.toBuffer()), values.length, col);
    return Array.from(col.values.subarray(0, values.length), (v, i) => (col.hasNulls && col.nulls[i] ? null : v));
  }

  it('is exact for values the scale does not fit (falls back to float64)', () => {
    const rand = rng(7);
    const values = Array.from({ length: 50 }, () => rand() * 1e6);
    expect(roundTrip(values, [1, 1000], 1)).toEqual(values);
  });

  it('keeps nulls, all-null columns and non-finite values', () => {
    expect(roundTrip([null, 1, null, 3.5, null], [1], 1)).toEqual([null, 1, null, 3.5, null]);
    expect(roundTrip([null, null], [1], 1)).toEqual([null, null]);
    expect(roundTrip([1, NaN, Infinity], [1], 2)).toEqual([1, NaN, Infinity]);
  });

  it('keeps monotonic ns beyond 2^53 (hosts up for months) exactly as given', () => {
    const base = 2 ** 55; // representable only as multiples of 8
    const values = [base, base + 100_000_000 * 8, base + 200_000_128 * 8];
    expect(roundTrip(values, [1], 2)).toEqual(values);
  });

  it('packs a ns-counter cpuSeconds column as small varints, not float64', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i * 123_456_789 + 987_654_321_000) / 1e9);
    const w = new ByteWriter();
    encodeColumn(w, values, { scales: [1e9], order: 1 });
    expect(roundTrip(values, [1e9], 1)).toEqual(values);
    expect(w.pos).toBeLessThan(values.length * 5);
  });
});

describe('run chunks', () => {
  it('round-trip a realistic trace exactly, in well under 40 bytes per sample', () => {
    const trace = makeTrace(1000);
    for (let start = 0; start < trace.length; start += 10) {
      const chunk = trace.slice(start, start + 10);
      expect(decodeRunChunk(encodeRunChunk(chunk))).toEqual(chunk);
    }
    const blob = encodeRunChunk(trace);
    expect(decodeRunChunk(blob)).toEqual(trace);
    expect(blob.length / trace.length).toBeLessThan(24);
  });

  it('round-trips arbitrary doubles and nulls in every nullable field', () => {
    const rand = rng(3);
    const samples: RunSample[] = Array.from({ length: 20 }, (_, i) => ({
      monoNs: 1e12 + i * 1e8 + rand(),
      wallMs: 1.7e12 + i * 100.25,
      cpuSeconds: i === 4 ? null : rand() * 100,
      ramMiB: i % 3 === 0 ? null : rand() * 1000,
      gpuMiB: null,
      gpuDeviceMiB: i === 0 ? null : 1024.5,
    }));
    expect(decodeRunChunk(encodeRunChunk(samples))).toEqual(samples);
  });

  it('round-trip exactly when packed (deflated), smaller than plain', () => {
    const trace = makeTrace(1024);
    const packed = encodePackedRunChunk(trace);
    expect(decodeRunChunk(packed)).toEqual(trace);
    expect(packed.length).toBeLessThan(encodeRunChunk(trace).length);
  });

  it('rejects an unknown format and a truncated blob', () => {
    const blob = encodeRunChunk(makeTrace(5));
    expect(() => decodeRunChunk(Buffer.concat([Buffer.from([9]), blob.subarray(1)]))).toThrow(/format/);
    expect(() => decodeRunChunk(blob.subarray(0, blob.length - 2))).toThrow(/truncated/);
  });
});

describe('node chunks', () => {
  it('round-trip host counters and variable GPU lists exactly', () => {
    const trace = makeNodeTrace(200);
    const blob = encodeNodeChunk(trace);
    expect(decodeNodeChunk(blob)).toEqual(trace);
    expect(decodeNodeChunk(encodeNodeChunk(trace.slice(3, 4)))).toEqual(trace.slice(3, 4)); // no GPUs
    expect(decodeNodeChunk(encodeNodeChunk([]))).toEqual([]);
  });

  it('round-trip exactly when packed (deflated), in a fraction of the plain size', () => {
    const trace = makeNodeTrace(600);
    const plain = encodeNodeChunk(trace);
    const packed = encodePackedNodeChunk(trace);
    expect(decodeNodeChunk(packed)).toEqual(trace);
    expect(packed[0]).not.toBe(plain[0]); // the format byte tells them apart
    expect(packed.length).toBeLessThan(plain.length);
    expect(decodeNodeChunk(encodePackedNodeChunk([]))).toEqual([]);
  });
});
