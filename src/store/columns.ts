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

/**
 * Decoded rows of one column. Reused across chunks (decoding allocates no typed arrays per chunk:
 * with 10-sample chunks that allocation dominated the load of a long trace).
 */
export class DecodedColumn {
  values = new Float64Array(64);
  /** nulls[i] === 1 where row i is null; meaningful only when hasNulls. */
  nulls = new Uint8Array(64);
  hasNulls = false;

  reset(n: number): void {
    if (this.values.length < n) {
      const size = Math.max(n, this.values.length * 2);
      this.values = new Float64Array(size);
      this.nulls = new Uint8Array(size);
    }
    this.hasNulls = false;
  }
}

/**
 * Writes base + codes for the non-null values at `scale`; false (output to be rewound) when some
 * value does not survive the round trip exactly.
 */
function writeDeltas(
  out: ByteWriter,
  values: readonly (number | null)[],
  scale: number,
  order: 1 | 2,
  groups: Int32Array | null,
  groupCount: number,
): boolean {
  let first = 0;
  while (values[first] === null) first++;
  const base = Math.round((values[first] as number) * scale);
  out.number(base);
  // One series (run samples): scalars; interleaved series (GPUs): per-group state.
  let prev = base;
  let prevDelta = 0;
  const prevs = groups === null ? null : new Float64Array(groupCount).fill(base);
  const prevDeltas = groups === null ? null : new Float64Array(groupCount);
  for (let i = first; i < values.length; i++) {
    const v = values[i];
    if (v === null) continue;
    const q = Math.round(v * scale);
    if (q / scale !== v) return false;
    const g = groups === null ? 0 : groups[i];
    if (prevs !== null) prev = prevs[g];
    const d = q - prev;
    if (!(Math.abs(d) <= MAX_ZIGZAG_INPUT) || prev + d !== q) return false;
    let code = d;
    if (order === 2) {
      if (prevDeltas !== null) prevDelta = prevDeltas[g];
      code = d - prevDelta;
      if (!(Math.abs(code) <= MAX_ZIGZAG_INPUT) || prevDelta + code !== d) return false;
      prevDelta = d;
      if (prevDeltas !== null) prevDeltas[g] = d;
    }
    out.zigzag(code);
    prev = q;
    if (prevs !== null) prevs[g] = q;
  }
  return true;
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
  let nullCount = 0;
  for (let i = 0; i < n; i++) if (values[i] === null) nullCount++;
  if (nullCount === n) {
    out.byte(MODE_NULL);
    return;
  }
  const nullFlag = nullCount === 0 ? 0 : HAS_NULLS;
  const writeBitmap = (): void => {
    if (nullCount === 0) return;
    for (let start = 0; start < n; start += 8) {
      let bits = 0;
      for (let i = start; i < Math.min(start + 8, n); i++) if (values[i] === null) bits |= 1 << (i - start);
      out.byte(bits);
    }
  };
  const start = out.pos;
  for (const scale of spec.scales) {
    const code = SCALES.indexOf(scale as (typeof SCALES)[number]);
    if (code < 0) throw new Error(`unknown column scale ${scale}`);
    out.byte((spec.order === 2 ? MODE_DELTA2 : MODE_DELTA) | nullFlag | (code << 3));
    writeBitmap();
    if (writeDeltas(out, values, scale, spec.order, groups, groupCount)) return;
    out.pos = start; // rewind: try the next scale
  }
  out.byte(MODE_RAW | nullFlag);
  writeBitmap();
  for (const v of values) if (v !== null) out.float64(v);
}

/** Reads a column of `n` rows into `out`. `groups` as for encodeColumn (one id per row). */
export function decodeColumn(
  input: ByteReader,
  n: number,
  out: DecodedColumn,
  groups: Int32Array | null = null,
  groupCount = 1,
): void {
  out.reset(n);
  const header = input.byte();
  const mode = header & 3;
  const { values, nulls } = out;
  if (mode === MODE_NULL) {
    out.hasNulls = true;
    nulls.fill(1, 0, n);
    return;
  }
  if (header & HAS_NULLS) {
    const bitmap = input.bytes((n + 7) >> 3);
    out.hasNulls = true;
    for (let i = 0; i < n; i++) nulls[i] = (bitmap[i >> 3] >> (i & 7)) & 1;
  }
  const hasNulls = out.hasNulls;
  if (mode === MODE_RAW) {
    for (let i = 0; i < n; i++) if (!hasNulls || nulls[i] === 0) values[i] = input.float64();
    return;
  }
  const scale = SCALES[header >> 3];
  if (scale === undefined) throw new RangeError(`sample chunk: unknown scale code ${header >> 3}`);
  const base = input.number();
  const second = mode === MODE_DELTA2;
  if (groups === null) {
    // One series: the common case (run samples), kept free of per-chunk allocations.
    let prev = base;
    let prevDelta = 0;
    for (let i = 0; i < n; i++) {
      if (hasNulls && nulls[i] === 1) continue;
      let d = input.zigzag();
      if (second) d = prevDelta += d;
      prev += d;
      values[i] = prev / scale;
    }
    return;
  }
  const prev = new Float64Array(groupCount).fill(base);
  const prevDelta = new Float64Array(groupCount);
  for (let i = 0; i < n; i++) {
    if (hasNulls && nulls[i] === 1) continue;
    const g = groups[i];
    let d = input.zigzag();
    if (second) d = prevDelta[g] += d;
    prev[g] += d;
    values[i] = prev[g] / scale;
  }
}

export function valueAt(column: DecodedColumn, i: number): number | null {
  return column.hasNulls && column.nulls[i] === 1 ? null : column.values[i];
}
