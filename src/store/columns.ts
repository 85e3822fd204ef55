// One column of a packed sample chunk. Values are stored EXACTLY: a value v is kept as the integer
// q = v × scale (scale from a small fixed table, e.g. 1e9 for cpuSeconds read from a ns counter,
// 1048576 for MiB computed from bytes) when q / scale gives v back bit for bit; successive q are
// delta (or delta-of-delta, for clock columns) coded as zigzag varints. If no scale reproduces every
// value of the chunk, the column falls back to raw float64. Decoding never loses precision.
//
// Layout: header byte = mode (bits 0-1) | hasNulls (bit 2) | scaleCode (bits 3-7);
// [null bitmap, 1 bit per row, set = null]; mode DELTA/DELTA2: base number, then one zigzag per
// non-null value; mode RAW: one float64 per non-null value.
// Groups: when a column interleaves several series (the GPUs of a node sample), deltas are taken
// against the previous value of the same group, so each GPU's memory curve stays a small delta.
import { ByteReader, ByteWriter, MAX_ZIGZAG_INPUT } from './bytes.js';

const MODE_NULL = 0;
const MODE_DELTA = 1;
const MODE_RAW = 2;
const MODE_DELTA2 = 3;
const HAS_NULLS = 4;

/** Append-only: a chunk records the code, so entries must never be reordered. */
const SCALES = [1, 100, 1000, 1024, 1048576, 1e6, 1e9] as const;

export interface ColumnSpec {
  /** Scales to try, in order of preference. */
  scales: readonly number[];
  /** 2: delta-of-delta (regular clocks); 1: plain delta (counters, levels). */
  order: 1 | 2;
}

export interface DecodedColumn {
  values: Float64Array;
  /** nulls[i] === 1 where the row's value is null; null when the column has none. */
  nulls: Uint8Array | null;
}

function tryDeltas(
  present: number[],
  groups: Int32Array | null,
  scale: number,
  order: 1 | 2,
  groupCount: number,
): { base: number; codes: number[] } | null {
  const base = Math.round(present[0] * scale);
  const prev = new Float64Array(groupCount).fill(base);
  const prevDelta = new Float64Array(groupCount);
  const codes = new Array<number>(present.length);
  for (let i = 0; i < present.length; i++) {
    const v = present[i];
    const q = Math.round(v * scale);
    if (q / scale !== v) return null;
    const g = groups === null ? 0 : groups[i];
    const d = q - prev[g];
    if (!(Math.abs(d) <= MAX_ZIGZAG_INPUT) || prev[g] + d !== q) return null;
    let code = d;
    if (order === 2) {
      code = d - prevDelta[g];
      if (!(Math.abs(code) <= MAX_ZIGZAG_INPUT) || prevDelta[g] + code !== d) return null;
      prevDelta[g] = d;
    }
    codes[i] = code;
    prev[g] = q;
  }
  return { base, codes };
}

/** Writes `values` (null allowed). `groups`, when given, holds a group id (0 ≤ id < groupCount) per row. */
export function encodeColumn(
  out: ByteWriter,
  values: readonly (number | null)[],
  spec: ColumnSpec,
  groups: Int32Array | null = null,
  groupCount = 1,
): void {
  const n = values.length;
  const present: number[] = [];
  const presentGroups = groups === null ? null : new Int32Array(n);
  let bitmap: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null) {
      bitmap ??= new Uint8Array((n + 7) >> 3);
      bitmap[i >> 3] |= 1 << (i & 7);
    } else {
      if (presentGroups !== null && groups !== null) presentGroups[present.length] = groups[i];
      present.push(v);
    }
  }
  if (present.length === 0) {
    out.byte(MODE_NULL);
    return;
  }
  const nullFlag = bitmap === null ? 0 : HAS_NULLS;
  for (const scale of spec.scales) {
    const code = SCALES.indexOf(scale as (typeof SCALES)[number]);
    if (code < 0) throw new Error(`unknown column scale ${scale}`);
    const coded = tryDeltas(present, presentGroups, scale, spec.order, groupCount);
    if (coded === null) continue;
    out.byte((spec.order === 2 ? MODE_DELTA2 : MODE_DELTA) | nullFlag | (code << 3));
    if (bitmap !== null) out.bytes(bitmap);
    out.number(coded.base);
    for (const c of coded.codes) out.zigzag(c);
    return;
  }
  out.byte(MODE_RAW | nullFlag);
  if (bitmap !== null) out.bytes(bitmap);
  for (const v of present) out.float64(v);
}

/** Reads a column of `n` rows. `groups` as for encodeColumn (one id per row). */
export function decodeColumn(
  input: ByteReader,
  n: number,
  groups: Int32Array | null = null,
  groupCount = 1,
): DecodedColumn {
  const header = input.byte();
  const mode = header & 3;
  const values = new Float64Array(n);
  if (mode === MODE_NULL) return { values, nulls: new Uint8Array(n).fill(1) };
  let nulls: Uint8Array | null = null;
  if (header & HAS_NULLS) {
    const bitmap = input.bytes((n + 7) >> 3);
    nulls = new Uint8Array(n);
    for (let i = 0; i < n; i++) nulls[i] = (bitmap[i >> 3] >> (i & 7)) & 1;
  }
  if (mode === MODE_RAW) {
    for (let i = 0; i < n; i++) if (nulls === null || nulls[i] === 0) values[i] = input.float64();
    return { values, nulls };
  }
  const scale = SCALES[header >> 3];
  if (scale === undefined) throw new RangeError(`sample chunk: unknown scale code ${header >> 3}`);
  const base = input.number();
  const prev = new Float64Array(groupCount).fill(base);
  const prevDelta = new Float64Array(groupCount);
  for (let i = 0; i < n; i++) {
    if (nulls !== null && nulls[i] === 1) continue;
    const g = groups === null ? 0 : groups[i];
    let d = input.zigzag();
    if (mode === MODE_DELTA2) {
      d += prevDelta[g];
      prevDelta[g] = d;
    }
    prev[g] += d;
    values[i] = prev[g] / scale;
  }
  return { values, nulls };
}

export function valueAt(column: DecodedColumn, i: number): number | null {
  return column.nulls !== null && column.nulls[i] === 1 ? null : column.values[i];
}
