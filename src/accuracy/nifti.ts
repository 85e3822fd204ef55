// A NIfTI label map as the FLARE accuracy evaluation reads it (docs/scoring.md, "Accuracy"): the
// voxels after the header's scaling, cast to an unsigned 8-bit label, in the file's own array order
// (i fastest, then j, then k: the affine is never applied), with the header's pixdim[1..3] as the
// spacing. The header is parsed by nifti-reader-js (NIfTI-1 and NIfTI-2, either byte order); the
// voxels are streamed through zlib and converted a chunk at a time straight into the label array, so
// a 512×512×100 float64 volume (200 MiB of raw data) never exists in memory, only its 25 MiB of labels.
import { createReadStream, statSync } from 'node:fs';
import { createGunzip, type Gunzip } from 'node:zlib';
import { isNIFTI1, isNIFTI2, readHeader } from 'nifti-reader-js';

/** Why a file is not a label map this reader accepts; the message names the file. */
export class NiftiError extends Error {
  constructor(
    readonly reason: 'open' | 'not-nifti' | 'truncated' | 'unsupported' | 'non-finite',
    message: string,
  ) {
    super(message);
    this.name = 'NiftiError';
  }
}

export interface LabelVolume {
  /** Voxels along array axes 0, 1, 2 (i, j, k). */
  shape: [number, number, number];
  /** pixdim[1..3] as stored (float32 values: 0.8 reads 0.800000011920929), mm. */
  spacingMm: [number, number, number];
  /** Label of voxel (i, j, k) at i + shape[0] × (j + shape[1] × k). */
  labels: Uint8Array;
}

/** Bytes of one voxel, and how to read it, per NIfTI datatype code. Complex and RGB have no label. */
const READERS: Record<number, { bytes: number; read: (v: DataView, at: number, le: boolean) => number }> = {
  2: { bytes: 1, read: (v, at) => v.getUint8(at) },
  256: { bytes: 1, read: (v, at) => v.getInt8(at) },
  4: { bytes: 2, read: (v, at, le) => v.getInt16(at, le) },
  512: { bytes: 2, read: (v, at, le) => v.getUint16(at, le) },
  8: { bytes: 4, read: (v, at, le) => v.getInt32(at, le) },
  768: { bytes: 4, read: (v, at, le) => v.getUint32(at, le) },
  1024: { bytes: 8, read: (v, at, le) => Number(v.getBigInt64(at, le)) },
  1280: { bytes: 8, read: (v, at, le) => Number(v.getBigUint64(at, le)) },
  16: { bytes: 4, read: (v, at, le) => v.getFloat32(at, le) },
  64: { bytes: 8, read: (v, at, le) => v.getFloat64(at, le) },
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The voxels of `buf` as a typed array of the file's datatype, when the bytes are aligned for it and
 * in this host's byte order (null otherwise: the DataView path reads them). A view reads a float64
 * volume ~3× faster than DataView calls per voxel. The 64-bit integer types always take DataView.
 */
function typedView(datatypeCode: number, buf: Buffer, count: number): ArrayLike<number> | null {
  const make = TYPED[datatypeCode];
  if (!make) return null;
  const bytes = make.BYTES_PER_ELEMENT;
  if (buf.byteOffset % bytes !== 0) return null;
  return new make(buf.buffer as ArrayBuffer, buf.byteOffset, count);
}

type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;
const TYPED: Record<number, TypedArrayConstructor> = {
  256: Int8Array,
  4: Int16Array,
  512: Uint16Array,
  8: Int32Array,
  768: Uint32Array,
  16: Float32Array,
  64: Float64Array,
};

/**
 * Read and inflate 1 MiB at a time: zlib's default 16-KiB chunks made a 512×512×100 volume ~1 600
 * callbacks and 70-190 ms, 1-MiB chunks 12 ms (Node 20, this project's VM).
 */
const CHUNK_BYTES = 1 << 20;

/** Header bytes read before parsing: a NIfTI-2 header is 540 bytes, a NIfTI-1 header 348 (+4 extension flag). */
const HEADER_BYTES = 544;

/**
 * A value as the official evaluation casts it to uint8 (numpy's astype of the float64 data):
 * truncated toward zero, then taken modulo 256 (what the cast gives for integers out of range).
 */
export const labelOf = (value: number): number => ((Math.trunc(value) % 256) + 256) % 256;

/** Destroys a stream and waits for its 'close' (after any pending write of its own). */
function closeStream(s: NodeJS.ReadableStream & { closed: boolean; destroy(): void }): Promise<void> {
  if (s.closed) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('close', () => resolve());
    s.destroy();
  });
}

/**
 * Reads a `.nii` or `.nii.gz` label map (gzip recognised by its magic bytes, not the name) into the
 * array `labelsFor` gives for its voxel count (a fresh one unless the caller reuses its own).
 */
export async function readLabelVolume(path: string, labelsFor: (voxels: number) => Uint8Array = (n) => new Uint8Array(n)): Promise<LabelVolume> {
  // A participant's container wrote the outputs folder: a FIFO there would block the read for ever.
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    throw new NiftiError('open', `${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!isFile) throw new NiftiError('not-nifti', `${path}: not a regular file`);
  const raw = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  let gunzip: Gunzip | null = null;
  let stream: NodeJS.ReadableStream = raw;
  let first = true;
  let header: Buffer | null = Buffer.alloc(0);
  let skip = 0;
  let volume: LabelVolume | null = null;
  let convert: ((chunk: Buffer) => void) | null = null;
  let written = 0;
  const fail = (reason: NiftiError['reason'], what: string): never => {
    throw new NiftiError(reason, `${path}: ${what}`);
  };
  const start = (hdr: Buffer): void => {
    const ab = hdr.buffer.slice(hdr.byteOffset, hdr.byteOffset + hdr.byteLength) as ArrayBuffer;
    if (!isNIFTI1(ab) && !isNIFTI2(ab)) fail('not-nifti', 'not a NIfTI-1 or NIfTI-2 file (no n+1/ni1/n+2 magic)');
    const h = readHeader(ab);
    const nd = h.dims[0];
    if (nd < 1 || nd > 7) fail('not-nifti', `dim[0] is ${nd}`);
    const shape: [number, number, number] = [h.dims[1] ?? 1, nd >= 2 ? h.dims[2] : 1, nd >= 3 ? h.dims[3] : 1];
    for (let d = 4; d <= nd; d++) if (h.dims[d] > 1) fail('unsupported', `a label map has 3 dimensions, this one has dim[${d}] = ${h.dims[d]}`);
    if (shape.some((n) => !Number.isInteger(n) || n < 1)) fail('not-nifti', `dimensions ${shape.join('×')}`);
    const reader = READERS[h.datatypeCode];
    if (!reader) fail('unsupported', `datatype ${h.datatypeCode} is not a label type (integer or float)`);
    const slope = h.scl_slope;
    const inter = Number.isFinite(h.scl_inter) ? h.scl_inter : 0;
    // nibabel: a slope of 0 (or NaN) means the data is not scaled; 1 and 0 change nothing.
    const scaled = Number.isFinite(slope) && slope !== 0 && !(slope === 1 && inter === 0);
    const n = shape[0] * shape[1] * shape[2];
    volume = { shape, spacingMm: [h.pixDims[1], h.pixDims[2], h.pixDims[3]], labels: labelsFor(n) };
    skip = Math.max(h.vox_offset, hdr.byteLength >= 540 && isNIFTI2(ab) ? 544 : 352);
    const labels = volume.labels;
    const le = h.littleEndian;
    const size = reader.bytes;
    let carry = Buffer.alloc(0);
    convert = (chunk) => {
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const whole = Math.min(Math.floor(buf.length / size), n - written);
      const typed = le === HOST_LITTLE_ENDIAN ? typedView(h.datatypeCode, buf, whole) : null;
      if (size === 1 && !scaled && h.datatypeCode === 2) {
        labels.set(buf.subarray(0, whole), written);
      } else if (typed) {
        for (let k = 0; k < whole; k++) {
          let v = typed[k];
          if (scaled) v = v * slope + inter;
          // Integers and in-range values the cheap way; everything else through labelOf.
          const l = v >= 0 && v < 256 ? v | 0 : Number.isFinite(v) ? labelOf(v) : fail('non-finite', `voxel ${written + k} is ${v}: a label map holds finite values`);
          labels[written + k] = l;
        }
      } else {
        const view = new DataView(buf.buffer, buf.byteOffset, whole * size);
        for (let k = 0; k < whole; k++) {
          let v = reader.read(view, k * size, le);
          if (scaled) v = v * slope + inter;
          if (!Number.isFinite(v)) fail('non-finite', `voxel ${written + k} is ${v}: a label map holds finite values`);
          labels[written + k] = labelOf(v);
        }
      }
      written += whole;
      carry = Buffer.from(buf.subarray(whole * size));
    };
  };
  const take = (chunk: Buffer): void => {
    if (header !== null) {
      header = Buffer.concat([header, chunk]);
      if (header.length < HEADER_BYTES) return;
      start(header);
      chunk = header;
      header = null;
    }
    if (skip > 0) {
      const s = Math.min(skip, chunk.length);
      skip -= s;
      chunk = chunk.subarray(s);
    }
    if (chunk.length > 0 && volume && written < volume.labels.length) convert!(chunk);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      raw.on('error', (err: NodeJS.ErrnoException) => reject(new NiftiError('open', `${path}: cannot read: ${err.code ?? err.message}`)));
      raw.once('data', (c: Buffer | string) => {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c);
        raw.pause();
        if (first && b[0] === 0x1f && b[1] === 0x8b) {
          gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
          gunzip.on('error', (err: Error) => reject(new NiftiError('truncated', `${path}: gzip: ${err.message}`)));
          raw.unshift(b);
          stream = raw.pipe(gunzip);
        } else raw.unshift(b);
        first = false;
        stream.on('data', (d: Buffer) => {
          try {
            take(d);
          } catch (err) {
            raw.destroy();
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        stream.on('end', () => resolve());
        raw.resume();
      });
      raw.on('end', () => {
        if (first) resolve(); // an empty file
      });
    });
  } finally {
    // Closed, not only destroyed, before the read ends: an inflate still running on libuv's pool
    // after a failed case would write into the next case's labels (they reuse one array) and, in a
    // worker thread the pool then terminates, could abort the process.
    await Promise.all([closeStream(raw), gunzip ? closeStream(gunzip) : null]);
  }
  if (header !== null && header.length > 0 && header.length < HEADER_BYTES) {
    // A whole file shorter than the read-ahead: a NIfTI-1 header with little or no data.
    start(header);
    const rest = header;
    header = null;
    take(rest);
  }
  if (!volume) return fail('truncated', 'empty file');
  const v: LabelVolume = volume;
  if (written < v.labels.length) fail('truncated', `${written} of ${v.labels.length} voxels (the file ends early)`);
  return v;
}
