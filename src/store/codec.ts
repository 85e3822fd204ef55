// Packs a batch of samples (what one flush wrote for one run, or for the node) into one BLOB and back.
// Columnar, exact (see columns.ts). A chunk is self-contained: decoding needs no other row.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { GpuDeviceSample, HostCpuTimes, NodeSample, RunSample } from '../core/types.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { type ColumnSpec, DecodedColumn, decodeColumn, encodeColumn, valueAt } from './columns.js';

/** Bounds a chunk's BLOB (~100 KiB) when a backlog accumulates. */
export const MAX_CHUNK_SAMPLES = 4096;
/** Node chunks span at most this much wall time, so a time-range query can bound its index scan. */
export const MAX_NODE_CHUNK_SPAN_MS = 60_000;

const FORMAT_V1 = 1;
/**
 * A merged chunk (compaction.ts, node-compaction.ts): the format byte, then a whole FORMAT_V1 chunk
 * compressed with raw deflate. Columnar bytes still repeat from sample to sample: a node sample is
 * 30-40 bytes (4 GPUs × 5 columns, 8 CPU counters), mostly idle GPUs, constant totals and steady
 * clocks, which deflate over a minute of samples takes to ~3-16 bytes; a run's merged trace loses
 * ~30 %. Flushes write FORMAT_V1: deflating 10 samples saves little and costs the sampler's thread.
 */
const FORMAT_DEFLATED = 2;

// Preferred scales: the units the sources actually read (ns counters, bytes, KiB, whole MiB).
const CLOCK_NS: ColumnSpec = { scales: [1], order: 2 };
const CLOCK_MS: ColumnSpec = { scales: [1, 1000], order: 2 };
const CPU_SECONDS: ColumnSpec = { scales: [1e9], order: 1 };
const HOST_CPU_SECONDS: ColumnSpec = { scales: [100, 1000, 1e9], order: 1 };
const MIB: ColumnSpec = { scales: [1, 1024, 1048576], order: 1 };
const INTEGER: ColumnSpec = { scales: [1], order: 1 };
const PERCENT: ColumnSpec = { scales: [1, 1000], order: 1 };

const HOST_CPU_KEYS: readonly (keyof HostCpuTimes)[] = [
  'userSeconds',
  'niceSeconds',
  'systemSeconds',
  'idleSeconds',
  'iowaitSeconds',
  'irqSeconds',
  'softirqSeconds',
  'stealSeconds',
];

function deflated(chunk: Buffer): Buffer {
  const packed = deflateRawSync(chunk);
  const out = Buffer.allocUnsafe(1 + packed.length);
  out[0] = FORMAT_DEFLATED;
  packed.copy(out, 1);
  return out;
}

/** The FORMAT_V1 bytes of a chunk in either format. */
function plain(blob: Uint8Array): Uint8Array {
  return blob[0] === FORMAT_DEFLATED ? inflateRawSync(blob.subarray(1)) : blob;
}

function readHeader(input: ByteReader): number {
  const format = input.byte();
  if (format !== FORMAT_V1) throw new RangeError(`sample chunk: unknown format ${format}`);
  return input.varint();
}

export function encodeRunChunk(samples: readonly RunSample[]): Buffer {
  const out = new ByteWriter(64 + samples.length * 24);
  out.byte(FORMAT_V1);
  out.varint(samples.length);
  encodeColumn(out, samples.map((s) => s.monoNs), CLOCK_NS);
  encodeColumn(out, samples.map((s) => s.wallMs), CLOCK_MS);
  encodeColumn(out, samples.map((s) => s.cpuSeconds), CPU_SECONDS);
  encodeColumn(out, samples.map((s) => s.ramMiB), MIB);
  encodeColumn(out, samples.map((s) => s.gpuMiB), MIB);
  encodeColumn(out, samples.map((s) => s.gpuDeviceMiB), MIB);
  return out.toBuffer();
}

// Scratch columns reused by every decode (decoding is synchronous, so one set suffices).
const scratch = (count: number): DecodedColumn[] => Array.from({ length: count }, () => new DecodedColumn());
const RUN_SCRATCH = scratch(6);
const NODE_SCRATCH = scratch(5 + HOST_CPU_KEYS.length);
const GPU_SCRATCH = scratch(5);

/** Appends the chunk's samples to `out` (one pass, no intermediate array). */
/** A merged run chunk: FORMAT_V1 deflated (decodeRunChunk reads both). */
export function encodePackedRunChunk(samples: readonly RunSample[]): Buffer {
  return deflated(encodeRunChunk(samples));
}

export function decodeRunChunkInto(blob: Uint8Array, out: RunSample[]): void {
  const input = new ByteReader(plain(blob));
  const n = readHeader(input);
  for (const column of RUN_SCRATCH) decodeColumn(input, n, column);
  const [mono, wall, cpu, ram, gpu, gpuDevice] = RUN_SCRATCH;
  for (let i = 0; i < n; i++) {
    out.push({
      monoNs: mono.values[i],
      wallMs: wall.values[i],
      cpuSeconds: valueAt(cpu, i),
      ramMiB: valueAt(ram, i),
      gpuMiB: valueAt(gpu, i),
      gpuDeviceMiB: valueAt(gpuDevice, i),
    });
  }
}

export function decodeRunChunk(blob: Uint8Array): RunSample[] {
  const out: RunSample[] = [];
  decodeRunChunkInto(blob, out);
  return out;
}

// Node chunk: clocks, the 8 host CPU counters, memory, then the GPUs of every sample flattened
// (a per-sample GPU count, a per-chunk table of UUIDs, per-GPU-entry columns grouped by UUID).
export function encodeNodeChunk(samples: readonly NodeSample[]): Buffer {
  const out = new ByteWriter(128 + samples.length * 64);
  out.byte(FORMAT_V1);
  out.varint(samples.length);
  encodeColumn(out, samples.map((s) => s.monoNs), CLOCK_NS);
  encodeColumn(out, samples.map((s) => s.wallMs), CLOCK_MS);
  for (const key of HOST_CPU_KEYS) encodeColumn(out, samples.map((s) => s.cpu[key]), HOST_CPU_SECONDS);
  encodeColumn(out, samples.map((s) => s.memUsedMiB), MIB);
  encodeColumn(out, samples.map((s) => s.memTotalMiB), MIB);
  encodeColumn(out, samples.map((s) => s.gpus.length), INTEGER);

  const uuids = new Map<string, number>();
  const entries: GpuDeviceSample[] = [];
  for (const s of samples) for (const g of s.gpus) entries.push(g);
  const refs = new Int32Array(entries.length);
  entries.forEach((g, i) => {
    let ref = uuids.get(g.uuid);
    if (ref === undefined) {
      ref = uuids.size;
      uuids.set(g.uuid, ref);
    }
    refs[i] = ref;
  });
  out.varint(uuids.size);
  for (const uuid of uuids.keys()) out.string(uuid);
  if (entries.length === 0) return out.toBuffer();
  encodeColumn(out, Array.from(refs), INTEGER);
  const groupCount = uuids.size;
  encodeColumn(out, entries.map((g) => g.index), INTEGER, refs, groupCount);
  encodeColumn(out, entries.map((g) => g.usedMiB), MIB, refs, groupCount);
  encodeColumn(out, entries.map((g) => g.totalMiB), MIB, refs, groupCount);
  encodeColumn(out, entries.map((g) => g.utilPct), PERCENT, refs, groupCount);
  return out.toBuffer();
}

/** A merged node chunk: FORMAT_V1 deflated (decodeNodeChunk reads both). */
export function encodePackedNodeChunk(samples: readonly NodeSample[]): Buffer {
  return deflated(encodeNodeChunk(samples));
}

export function decodeNodeChunk(blob: Uint8Array): NodeSample[] {
  const input = new ByteReader(plain(blob));
  const n = readHeader(input);
  for (const column of NODE_SCRATCH) decodeColumn(input, n, column);
  const [mono, wall, memUsed, memTotal, gpuCounts, ...cpu] = [
    NODE_SCRATCH[0],
    NODE_SCRATCH[1],
    NODE_SCRATCH[2 + HOST_CPU_KEYS.length],
    NODE_SCRATCH[3 + HOST_CPU_KEYS.length],
    NODE_SCRATCH[4 + HOST_CPU_KEYS.length],
    ...NODE_SCRATCH.slice(2, 2 + HOST_CPU_KEYS.length),
  ];
  const uuidCount = input.varint();
  const uuids: string[] = [];
  for (let i = 0; i < uuidCount; i++) uuids.push(input.string());
  let entryCount = 0;
  for (let i = 0; i < n; i++) entryCount += gpuCounts.values[i];

  let gpuEntries: GpuDeviceSample[] = [];
  if (entryCount > 0) {
    const [refColumn, index, used, total, util] = GPU_SCRATCH;
    decodeColumn(input, entryCount, refColumn);
    const refs = Int32Array.from(refColumn.values.subarray(0, entryCount));
    for (const column of [index, used, total, util]) decodeColumn(input, entryCount, column, refs, uuidCount);
    gpuEntries = Array.from(refs, (ref, i) => ({
      index: index.values[i],
      uuid: uuids[ref],
      usedMiB: valueAt(used, i),
      totalMiB: valueAt(total, i),
      utilPct: valueAt(util, i),
    }));
  }

  const samples = new Array<NodeSample>(n);
  let next = 0;
  for (let i = 0; i < n; i++) {
    const cpuTimes = {} as HostCpuTimes;
    HOST_CPU_KEYS.forEach((key, k) => (cpuTimes[key] = cpu[k].values[i]));
    const count = gpuCounts.values[i];
    samples[i] = {
      monoNs: mono.values[i],
      wallMs: wall.values[i],
      cpu: cpuTimes,
      memUsedMiB: memUsed.values[i],
      memTotalMiB: memTotal.values[i],
      gpus: gpuEntries.slice(next, next + count),
    };
    next += count;
  }
  return samples;
}
