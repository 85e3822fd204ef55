// Writes NIfTI-1 files for the accuracy tests and bench: any label datatype, either byte order, scaling,
// gzip or not. The header fields are the standard's (NIfTI-1, 348 bytes + a 4-byte extension flag).
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export interface NiftiSpec {
  shape: number[];
  pixdim?: number[];
  datatype?: 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'int64';
  values: ArrayLike<number>;
  slope?: number;
  inter?: number;
  bigEndian?: boolean;
  gzip?: boolean;
}

const TYPES = {
  uint8: { code: 2, bytes: 1, put: (v: DataView, at: number, x: number) => v.setUint8(at, x) },
  int8: { code: 256, bytes: 1, put: (v: DataView, at: number, x: number) => v.setInt8(at, x) },
  int16: { code: 4, bytes: 2, put: (v: DataView, at: number, x: number, le: boolean) => v.setInt16(at, x, le) },
  uint16: { code: 512, bytes: 2, put: (v: DataView, at: number, x: number, le: boolean) => v.setUint16(at, x, le) },
  int32: { code: 8, bytes: 4, put: (v: DataView, at: number, x: number, le: boolean) => v.setInt32(at, x, le) },
  uint32: { code: 768, bytes: 4, put: (v: DataView, at: number, x: number, le: boolean) => v.setUint32(at, x, le) },
  int64: { code: 1024, bytes: 8, put: (v: DataView, at: number, x: number, le: boolean) => v.setBigInt64(at, BigInt(x), le) },
  float32: { code: 16, bytes: 4, put: (v: DataView, at: number, x: number, le: boolean) => v.setFloat32(at, x, le) },
  float64: { code: 64, bytes: 8, put: (v: DataView, at: number, x: number, le: boolean) => v.setFloat64(at, x, le) },
};

export function niftiBytes(s: NiftiSpec): Buffer {
  const t = TYPES[s.datatype ?? 'uint8'];
  const le = !s.bigEndian;
  const n = s.shape.reduce((a, b) => a * b, 1);
  const buf = Buffer.alloc(352 + n * t.bytes);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  v.setInt32(0, 348, le);
  v.setInt16(40, s.shape.length, le);
  s.shape.forEach((d, i) => v.setInt16(40 + 2 * (i + 1), d, le));
  v.setInt16(70, t.code, le);
  v.setInt16(72, t.bytes * 8, le);
  const pix = s.pixdim ?? s.shape.map(() => 1);
  v.setFloat32(76, 1, le);
  pix.forEach((p, i) => v.setFloat32(76 + 4 * (i + 1), p, le));
  v.setFloat32(108, 352, le);
  v.setFloat32(112, s.slope ?? 0, le);
  v.setFloat32(116, s.inter ?? 0, le);
  buf.write('n+1\0', 344, 'latin1');
  for (let i = 0; i < n; i++) t.put(v, 352 + i * t.bytes, s.values[i], le);
  return s.gzip === false ? buf : gzipSync(buf);
}

export function writeNifti(path: string, s: NiftiSpec): void {
  writeFileSync(path, niftiBytes(s));
}
