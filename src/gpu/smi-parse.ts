// Pure parsers for `nvidia-smi --format=csv,noheader,nounits` lines (docs/measurement.md §6).
// Fields are separated by ", "; anything that is not a number ([N/A], [Not Supported], blanks) is null.

/** A numeric CSV field, or null for [N/A], [Not Supported] and any other non-number. */
export function parseSmiNumber(field: string): number | null {
  const trimmed = field.trim();
  if (trimmed === '' || !/^[+-]?\d+(\.\d+)?$/.test(trimmed)) return null;
  return Number(trimmed);
}

function fields(line: string): string[] {
  return line.split(',').map((f) => f.trim());
}

/** `--query-gpu=index,uuid,name,memory.total` (the one-shot inventory at open). */
export interface SmiInventoryRow {
  index: number;
  uuid: string;
  name: string;
  totalMiB: number | null;
}

export function parseInventoryLine(line: string): SmiInventoryRow | null {
  const f = fields(line);
  if (f.length < 4) return null;
  const index = parseSmiNumber(f[0]);
  if (index === null || !f[1]) return null;
  // The name sits between uuid and memory.total so a comma inside it cannot shift the number.
  return { index, uuid: f[1], name: f.slice(2, -1).join(', '), totalMiB: parseSmiNumber(f[f.length - 1]) };
}

/** `--query-gpu=index,uuid,memory.used,memory.total,utilization.gpu` (the looping device stream). */
export interface SmiGpuRow {
  index: number;
  uuid: string;
  usedMiB: number | null;
  totalMiB: number | null;
  utilPct: number | null;
}

export function parseGpuLine(line: string): SmiGpuRow | null {
  const f = fields(line);
  if (f.length !== 5) return null;
  const index = parseSmiNumber(f[0]);
  if (index === null || !f[1]) return null;
  return { index, uuid: f[1], usedMiB: parseSmiNumber(f[2]), totalMiB: parseSmiNumber(f[3]), utilPct: parseSmiNumber(f[4]) };
}

/** `--query-compute-apps=pid,used_memory,gpu_uuid` (the looping process stream). */
export interface SmiAppRow {
  pid: number;
  usedMiB: number | null;
  gpuUuid: string;
}

export function parseComputeAppLine(line: string): SmiAppRow | null {
  const f = fields(line);
  if (f.length !== 3) return null;
  const pid = parseSmiNumber(f[0]);
  if (pid === null || !Number.isInteger(pid) || pid <= 0 || !f[2]) return null;
  return { pid, usedMiB: parseSmiNumber(f[1]), gpuUuid: f[2] };
}

/** Splits a stream into lines across chunk boundaries; returns complete lines, keeps the rest. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.length > 0);
  }
}
