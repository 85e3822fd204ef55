// Growable byte buffer and reader for the packed sample chunks: LEB128 varints (up to 2^53, so any
// safe integer), zigzag for signed values, little-endian float64. No I/O.

/** Largest magnitude whose zigzag form is still a safe integer. */
export const MAX_ZIGZAG_INPUT = 2 ** 51;

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extraBytes: number): void {
    if (this.pos + extraBytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extraBytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Non-negative safe integer, 7 bits per byte. */
  varint(value: number): void {
    this.ensure(8);
    let v = value;
    // Bitwise ops are 32-bit: use arithmetic above 2^31.
    while (v >= 0x80000000) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    while (v >= 128) {
      this.buf[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** Signed integer with |value| <= MAX_ZIGZAG_INPUT. */
  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  float64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Any number, exactly: a zigzag varint when it is a small integer, else a float64 (tag byte first). */
  number(value: number): void {
    if (Number.isInteger(value) && Math.abs(value) <= MAX_ZIGZAG_INPUT && !Object.is(value, -0)) {
      this.byte(0);
      this.zigzag(value);
    } else {
      this.byte(1);
      this.float64(value);
    }
  }

  string(value: string): void {
    const encoded = Buffer.from(value, 'utf8');
    this.varint(encoded.length);
    this.bytes(encoded);
  }

  /** A copy of the written bytes (SQLite stores it as a BLOB). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

// float64 reads go through this pair instead of a DataView per reader: a reader is created per
// 10-sample chunk, and a DataView allocation each time was a visible share of loading a trace.
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class ByteReader {
  pos = 0;

  constructor(readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError('sample chunk truncated');
    return this.buf[this.pos++];
  }

  bytes(length: number): Uint8Array {
    if (this.pos + length > this.buf.length) throw new RangeError('sample chunk truncated');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++];
    if (b < 128) return b; // fast path: most deltas fit one byte (past the end, b is undefined: slow path throws)
    let result = b & 127;
    let factor = 128;
    for (;;) {
      if (this.pos >= buf.length) throw new RangeError('sample chunk truncated');
      b = buf[this.pos++];
      result += (b & 127) * factor;
      if (b < 128) return result;
      factor *= 128;
    }
  }

  zigzag(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  float64(): number {
    if (this.pos + 8 > this.buf.length) throw new RangeError('sample chunk truncated');
    for (let i = 0; i < 8; i++) F64_BYTES[LITTLE_ENDIAN ? i : 7 - i] = this.buf[this.pos + i];
    this.pos += 8;
    return F64[0];
  }

  number(): number {
    return this.byte() === 0 ? this.zigzag() : this.float64();
  }

  string(): string {
    const length = this.varint();
    const data = this.bytes(length);
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  }
}
